"""The request form: a link's company and the links issued, so one can be revoked."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from store.models import (
    Company,
    IssuedLink,
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
