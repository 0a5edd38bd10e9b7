"""Signed, expiring form links: the only way a customer reaches their company's form.

A link's token is `<company id>.<expiry, unix seconds>.<signature>`, the signature being
HMAC-SHA256 over both with a key only the server holds. Nothing is stored per link: a link
is valid while its signature checks and its expiry is ahead; changing the key voids all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from settings import settings
from store.files import generated_key

TOKEN_FORMAT = re.compile(r"(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})")


class LinkError(Exception):
    """The form link cannot be used; the message tells the customer what to do."""


class ForgedLink(LinkError):
    """The link was not made by Offstreet, or was altered (wrong signature or shape)."""


class ExpiredLink(LinkError):
    """The link was genuine but its time is up."""


@dataclass(frozen=True)
class FormLink:
    """A verified link: which company it opens the form for, and until when."""

    company_id: int
    expires_at: int
    token: str


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
    lifetime = (days if days is not None else settings.form_link_days) * 86400
    expires_at = int((now if now is not None else time.time()) + lifetime)
    payload = f"{company_id}.{expires_at}"
    return f"{payload}.{sign(f'form-link:{payload}')}"


def form_url(company_id: int, *, days: float | None = None, base_url: str | None = None) -> str:
    """The full link a customer opens (WEB_BASE_URL by default)."""
    base = (base_url or settings.form_base_url).rstrip("/")
    return f"{base}/f/{make_token(company_id, days=days)}"


def verify_token(token: str, *, now: float | None = None) -> FormLink:
    """The link the token stands for; `ForgedLink` or `ExpiredLink` if it may not be used."""
    match = TOKEN_FORMAT.fullmatch(token)
    if match is None:
        raise ForgedLink("This link is incomplete or was altered.")
    company_id, expires_at, signature = match.groups()
    expected = sign(f"form-link:{company_id}.{expires_at}")
    # Constant time: the signature must not be guessable byte by byte from response times.
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise ForgedLink("This link is incomplete or was altered.")
    if int(expires_at) <= (now if now is not None else time.time()):
        raise ExpiredLink("This link has expired.")
    return FormLink(company_id=int(company_id), expires_at=int(expires_at), token=token)
