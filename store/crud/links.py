"""The request form: a link's company and the links issued, so one can be revoked."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store.crud._base import rows_changed
from store.models import (
    Company,
    IssuedLink,
    LinkPurpose,
    OnboardingRequest,
    utcnow,
)


def find_company(session: Session, *, company_id: int) -> Company | None:
    """The company a signed form link names, or None if it is gone since."""
    return session.get(Company, company_id)


def company_request(
    session: Session, *, request_id: int, company: Company
) -> OnboardingRequest | None:
    """The request if it is the company's own, else None: a form link sees no other's.

    A form request belongs to the company its signed link names (held or not); an email
    request to the company intake found for its sender.
    """
    return session.exec(
        select(OnboardingRequest).where(
            OnboardingRequest.id == request_id, OnboardingRequest.company_id == company.id
        )
    ).first()


def record_form_link(
    session: Session, *, company_id: int, token_digest: str, expires_at: datetime
) -> IssuedLink:
    """Remember a form link made for the company (by the digest of its token)."""
    link = IssuedLink(company_id=company_id, token_digest=token_digest, expires_at=expires_at)
    session.add(link)
    session.flush()
    return link


def find_form_link(
    session: Session, *, link_id: int | None = None, token_digest: str | None = None
) -> IssuedLink | None:
    """The recorded form link with that id, or with that token's digest."""
    if link_id is not None:
        return session.get(IssuedLink, link_id)
    return session.exec(select(IssuedLink).where(IssuedLink.token_digest == token_digest)).first()


def revoke_form_link(session: Session, *, link: IssuedLink) -> None:
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.add(link)


def form_link_revoked(session: Session, *, token_digest: str) -> bool:
    revoked = select(IssuedLink.id).where(
        IssuedLink.token_digest == token_digest, col(IssuedLink.revoked_at).is_not(None)
    )
    return session.exec(revoked).first() is not None


def record_token_link(
    session: Session,
    *,
    company_id: int,
    request_id: int,
    recipient: str,
    expires_at: datetime,
    purpose: LinkPurpose = LinkPurpose.token,
) -> IssuedLink:
    """A new request link row; its digest is set once its token (which names the row) is
    made."""
    link = IssuedLink(
        company_id=company_id,
        purpose=purpose,
        request_id=request_id,
        recipient=recipient,
        token_digest=f"unsigned:{uuid.uuid4().hex}",
        expires_at=expires_at,
    )
    session.add(link)
    session.flush()
    return link


def set_link_digest(session: Session, *, link: IssuedLink, token_digest: str) -> None:
    link.token_digest = token_digest
    session.add(link)
    session.flush()


def open_token_link(session: Session, *, request_id: int, now: datetime) -> IssuedLink | None:
    """The request's token link that still works (unused, not revoked, not expired)."""
    return session.exec(
        select(IssuedLink)
        .where(
            IssuedLink.purpose == LinkPurpose.token,
            IssuedLink.request_id == request_id,
            col(IssuedLink.used_at).is_(None),
            col(IssuedLink.revoked_at).is_(None),
            IssuedLink.expires_at > now,
        )
        .order_by(col(IssuedLink.id).desc())
    ).first()


def use_token_link(session: Session, *, link_id: int) -> bool:
    """Mark the link used, once (compare-and-set): False if it was used already."""
    used = session.execute(
        sa.update(IssuedLink)
        .where(col(IssuedLink.id) == link_id, col(IssuedLink.used_at).is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(used))


def close_token_links(session: Session, *, company_id: int) -> None:
    """The company's token is on file: its unused token links have nothing left to ask."""
    session.execute(
        sa.update(IssuedLink)
        .where(
            col(IssuedLink.company_id) == company_id,
            col(IssuedLink.purpose) == LinkPurpose.token,
            col(IssuedLink.used_at).is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def token_links_to_follow(session: Session) -> Sequence[IssuedLink]:
    """Unused, unrevoked token links whose reminder or expiry notice is still to come."""
    return session.exec(
        select(IssuedLink).where(
            IssuedLink.purpose == LinkPurpose.token,
            col(IssuedLink.used_at).is_(None),
            col(IssuedLink.revoked_at).is_(None),
            col(IssuedLink.expiry_noticed_at).is_(None),
        )
    ).all()


def mark_link_followed(
    session: Session, *, link_id: int, reminded: bool = False, expiry_noticed: bool = False
) -> None:
    link = session.get(IssuedLink, link_id)
    if link is None:
        return
    if reminded:
        link.reminded_at = utcnow()
    if expiry_noticed:
        link.expiry_noticed_at = utcnow()
    session.add(link)


def request_token_links(
    session: Session, *, request_id: int, purpose: LinkPurpose = LinkPurpose.token
) -> Sequence[IssuedLink]:
    """The request's single-use links of that purpose, oldest first."""
    return session.exec(
        select(IssuedLink)
        .where(IssuedLink.purpose == purpose, IssuedLink.request_id == request_id)
        .order_by(col(IssuedLink.id))
    ).all()
