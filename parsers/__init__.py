"""Pure functions from raw bytes or JSON to a `SpotIDRequest`: no I/O, no Prefect."""

from __future__ import annotations

from parsers.email import parse_email
from parsers.form import parse_form
from parsers.limits import DEFAULT_LIMITS, Limits, MessageTooLarge
from parsers.models import NotASpotIDRequest, SpotEntry, SpotIDRequest, UnreadableInput

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def parse_any(raw: bytes | str, *, limits: Limits = DEFAULT_LIMITS) -> SpotIDRequest:
    """Form JSON when the input starts with "{" (after whitespace or a BOM), else an email."""
    data = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
    head = data.lstrip()
    for bom in _BOMS:
        head = head.removeprefix(bom).lstrip()
    if head.lstrip(b"\x00").startswith(b"{"):  # UTF-16 JSON interleaves NUL bytes
        return parse_form(data)
    return parse_email(data, limits=limits)


__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "MessageTooLarge",
    "NotASpotIDRequest",
    "SpotEntry",
    "SpotIDRequest",
    "UnreadableInput",
    "parse_any",
    "parse_email",
    "parse_form",
]
