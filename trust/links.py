"""Signed, expiring form links: the only way a customer reaches their company's form.

A link's token is `<company id>.<expiry, unix seconds>.<signature>`, the signature being
HMAC-SHA256 over both with a key only the server holds. A link is valid while its signature
checks, its expiry (at most MAX_FORM_LINK_DAYS ahead) is ahead and it was not revoked;
changing the key voids all. Links `form-link` makes are recorded (a digest of the token,
never the token), so one can be revoked alone.

Token links (the page asking a waiting request's contact for the company's HotSpot token) are
the same mechanism: `t<link id>.<expiry>.<signature>`, recorded in the same table, signed with
the same key for another purpose, valid TOKEN_LINK_HOURS, single-use, revocable alike.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from settings import MAX_FORM_LINK_DAYS, settings
from store import crud
from store.db import session_scope
from store.files import generated_key
from store.models import LinkPurpose

TOKEN_FORMAT = re.compile(r"(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})")
TOKEN_LINK_FORMAT = re.compile(r"([tp])(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})")
# The single-use links of one request: the token page, and the SpotIDs proposed to confirm.
PREFIX = {LinkPurpose.token: "t", LinkPurpose.proposal: "p"}
PAGE = {LinkPurpose.token: "hotspot-token", LinkPurpose.proposal: "spot-ids"}


class LinkError(Exception):
    """The form link cannot be used; the message tells the customer what to do."""


class ForgedLink(LinkError):
    """The link was not made by Offstreet, or was altered (wrong signature or shape)."""


class ExpiredLink(LinkError):
    """The link was genuine but its time is up."""


class RevokedLink(LinkError):
    """The link was genuine but Offstreet revoked it."""


@dataclass(frozen=True)
class FormLink:
    """A verified link: which company it opens the form for, and until when."""

    company_id: int
    expires_at: int
    token: str


@dataclass(frozen=True)
class TokenLink:
    """A verified token link: the recorded link it is (unused, unrevoked, not expired)."""

    link_id: int
    company_id: int
    request_id: int
    expires_at: int
    token: str


class UsedLink(LinkError):
    """The token link was used already, or the token reached Offstreet another way."""


@dataclass(frozen=True)
class IssuedForm:
    """A link `form-link` made: its id (to revoke it), where it leads, and until when."""

    link_id: int
    url: str
    expires_at: datetime


def signing_key() -> bytes:
    """FORM_LINK_SECRET, or a random key generated once into the data dir (mode 600)."""
    if settings.form_link_secret is not None:
        return settings.form_link_secret.get_secret_value().encode()
    return generated_key(
        settings.data_dir / "form-link.key", lambda: secrets.token_urlsafe(32)
    ).encode()


def sign(message: str) -> str:
    """HMAC-SHA256 of the message with the link key, URL-safe base64 without padding."""
    digest = hmac.new(signing_key(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(company_id: int, *, days: float | None = None, now: float | None = None) -> str:
    """A token for the company's form, valid for `days` (FORM_LINK_DAYS by default)."""
    days = days if days is not None else settings.form_link_days
    if not 0 < days <= MAX_FORM_LINK_DAYS:
        raise ValueError(
            f"a form link lives more than 0 and at most {MAX_FORM_LINK_DAYS} days, not {days:g}"
        )
    expires_at = int((now if now is not None else time.time()) + days * 86400)
    payload = f"{company_id}.{expires_at}"
    return f"{payload}.{sign(f'form-link:{payload}')}"


def token_digest(token: str) -> str:
    """What the store keeps of a link: enough to recognise it, not enough to use it."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(
    company_id: int, *, days: float | None = None, base_url: str | None = None
) -> IssuedForm:
    """A new link to the company's form (WEB_BASE_URL by default), recorded for revocation."""
    token = make_token(company_id, days=days)
    expires_at = datetime.fromtimestamp(int(token.split(".")[1]), UTC)
    with session_scope() as session:
        issued = crud.record_form_link(
            session, company_id=company_id, token_digest=token_digest(token), expires_at=expires_at
        )
        link_id = issued.id or 0
    base = (base_url or settings.form_base_url).rstrip("/")
    return IssuedForm(link_id=link_id, url=f"{base}/f/{token}", expires_at=expires_at)


def _signed_as(purpose: LinkPurpose) -> str:
    return "token-link" if purpose == LinkPurpose.token else f"{purpose.value}-link"


def token_link_token(
    link_id: int, expires_at: int, purpose: LinkPurpose = LinkPurpose.token
) -> str:
    """The token of a recorded request link (the same every time: a reminder repeats it)."""
    payload = f"{link_id}.{expires_at}"
    return f"{PREFIX[purpose]}{payload}.{sign(f'{_signed_as(purpose)}:{payload}')}"


def token_link_url(token: str, *, base_url: str | None = None) -> str:
    purpose = LinkPurpose.proposal if token.startswith("p") else LinkPurpose.token
    return f"{(base_url or settings.form_base_url).rstrip('/')}/f/{token}/{PAGE[purpose]}"


def issue_token_link(
    *,
    company_id: int,
    request_id: int,
    recipient: str,
    now: datetime | None = None,
    purpose: LinkPurpose = LinkPurpose.token,
) -> tuple[int, str]:
    """A new single-use link for the request's contact to the token page (or to the SpotIDs
    proposed): (its id, its URL). Valid TOKEN_LINK_HOURS."""
    start = now or datetime.now(UTC)
    expires_at = int((start + timedelta(hours=settings.token_link_hours)).timestamp())
    with session_scope() as session:
        row = crud.record_token_link(
            session,
            company_id=company_id,
            request_id=request_id,
            recipient=recipient,
            expires_at=datetime.fromtimestamp(expires_at, UTC),
            purpose=purpose,
        )
        token = token_link_token(row.id or 0, expires_at, purpose)
        crud.set_link_digest(session, link=row, token_digest=token_digest(token))
        link_id = row.id or 0
    return link_id, token_link_url(token)


def verify_token_link(
    token: str, *, now: float | None = None, purpose: LinkPurpose = LinkPurpose.token
) -> TokenLink:
    """The request link the token stands for; `ForgedLink`, `ExpiredLink`, `RevokedLink` or
    `UsedLink` if it may not be used."""
    match = TOKEN_LINK_FORMAT.fullmatch(token)
    if match is None or match.group(1) != PREFIX[purpose]:
        raise ForgedLink("This link is incomplete or was altered.")
    _, link_id, expires_at, signature = match.groups()
    expected = sign(f"{_signed_as(purpose)}:{link_id}.{expires_at}")
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise ForgedLink("This link is incomplete or was altered.")
    with session_scope() as session:
        row = crud.find_form_link(session, link_id=int(link_id))
        if row is None or row.token_digest != token_digest(token) or row.request_id is None:
            raise ForgedLink("This link is incomplete or was altered.")
        if row.revoked_at is not None:
            raise RevokedLink("This link was withdrawn by Offstreet.")
        if row.used_at is not None:
            raise UsedLink("This link was used already: there is nothing more to do here.")
        found = TokenLink(
            link_id=row.id or 0,
            company_id=row.company_id,
            request_id=row.request_id,
            expires_at=int(expires_at),
            token=token,
        )
    if found.expires_at <= (now if now is not None else time.time()):
        raise ExpiredLink("This link has expired.")
    return found


def revoke_link(company_id: int, link_or_id: str) -> int:
    """Revoke one of the company's links, named by its id or by the link itself; its id.

    Raises `LookupError` (saying why) when it is not a live link of that company.
    """
    with session_scope() as session:
        if link_or_id.isdigit():
            issued = crud.find_form_link(session, link_id=int(link_or_id))
        elif (token_link := TOKEN_LINK_FORMAT.search(link_or_id)) is not None:
            issued = crud.find_form_link(session, token_digest=token_digest(token_link.group(0)))
        else:
            match = TOKEN_FORMAT.search(link_or_id)
            if match is None:
                raise LookupError(f"{link_or_id!r} is neither a form link nor a link id")
            link = _signed(match.group(0))
            issued = crud.find_form_link(session, token_digest=token_digest(link.token))
            if issued is None and link.company_id == company_id:  # made before links were kept
                issued = crud.record_form_link(
                    session,
                    company_id=company_id,
                    token_digest=token_digest(link.token),
                    expires_at=datetime.fromtimestamp(link.expires_at, UTC),
                )
        if issued is None or issued.company_id != company_id:
            raise LookupError(f"no form link {link_or_id} of this company")
        crud.revoke_form_link(session, link=issued)
        return issued.id or 0


def verify_token(token: str, *, now: float | None = None) -> FormLink:
    """The link the token stands for; `ForgedLink`, `ExpiredLink` or `RevokedLink` if it may
    not be used."""
    link = _signed(token)
    if link.expires_at <= (now if now is not None else time.time()):
        raise ExpiredLink("This link has expired.")
    with session_scope() as session:
        if crud.form_link_revoked(session, token_digest=token_digest(token)):
            raise RevokedLink("This link was withdrawn by Offstreet.")
    return link


def _signed(token: str) -> FormLink:
    """The link, if Offstreet made the token (whatever its expiry); `ForgedLink` if not."""
    match = TOKEN_FORMAT.fullmatch(token)
    if match is None:
        raise ForgedLink("This link is incomplete or was altered.")
    company_id, expires_at, signature = match.groups()
    expected = sign(f"form-link:{company_id}.{expires_at}")
    # Constant time: the signature must not be guessable byte by byte from response times.
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise ForgedLink("This link is incomplete or was altered.")
    return FormLink(company_id=int(company_id), expires_at=int(expires_at), token=token)
