"""Who sent a message and what it is called, read even when its body cannot be."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr

from pydantic import BaseModel


class Envelope(BaseModel):
    """The headers intake needs to keep and report any email, request or not."""

    message_id: str | None = None
    sender: str | None = None
    subject: str | None = None


def read_envelope(raw: bytes) -> Envelope:
    """Message-ID, sender address and subject; a header that cannot be read is None."""
    # compat32 keeps headers as raw strings, so a malformed one cannot raise on access.
    message = message_from_bytes(raw, policy=policy.compat32)
    return Envelope(
        message_id=_header(message, "Message-ID"),
        sender=parseaddr(_header(message, "From") or "")[1].lower() or None,
        subject=_header(message, "Subject"),
    )


def _header(message: Message, name: str) -> str | None:
    value = message.get(name)
    if value is None:
        return None
    try:
        text = str(make_header(decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError):
        text = str(value)
    return " ".join(text.split()) or None
