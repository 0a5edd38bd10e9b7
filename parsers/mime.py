"""Walk a message's MIME tree and decode every part we can read into text.

Mail labelled latin-1 or us-ascii (or not labelled) is very often really cp1252 (Outlook's
"=96" en dash) or even UTF-8, so for those UTF-8 is tried first, then cp1252. Other labels
are trusted first, then UTF-8 and cp1252; latin-1 is the last resort and never fails.
"""

from __future__ import annotations

import email
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import TypeVar

from parsers.limits import MessageTooLarge
from parsers.message import PARSE_POLICY

_T = TypeVar("_T")

_LATIN1_FAMILY = frozenset(
    "latin-1 latin1 l1 iso-8859-1 iso8859-1 iso_8859-1 iso-ir-100 cp819 us-ascii ascii "
    "ansi_x3.4-1968 windows-1252 cp1252 x-cp1252".split()
)
_CSV_TYPES = frozenset(
    "text/csv application/csv text/comma-separated-values text/x-csv application/x-csv".split()
)
_TSV_TYPES = frozenset(["text/tab-separated-values", "text/tsv"])
_XLSX_TYPES = frozenset(
    [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroenabled.12",
    ]
)
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
# Spreadsheets we cannot open (old binary Excel, OpenDocument, Numbers): a warning.
_SHEET_TYPES = frozenset(
    ["application/vnd.ms-excel", "application/vnd.oasis.opendocument.spreadsheet"]
)
_SHEET_SUFFIXES = (".xls", ".ods", ".numbers")
_MAX_DEPTH = 20


@dataclass
class Body:
    """A message's readable content, sorted by what it is."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)  # .txt attachments
    csvs: list[tuple[str, str, str | None]] = field(default_factory=list)  # name, text, delimiter
    workbooks: list[tuple[str, bytes]] = field(default_factory=list)  # XLSX
    sheets: list[str] = field(default_factory=list)  # spreadsheets we cannot open
    messages: list[Message] = field(default_factory=list)  # attached message/rfc822


def collect(message: Message) -> Body:
    """Sort the leaf parts of `message` (attached messages stay whole, for a later read)."""
    body = Body()
    _visit(message, body, depth=0)
    return body


def decode(data: bytes, charset: str | None) -> str:
    """Bytes to text, trusting the declared charset only as far as it deserves."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    label = (charset or "").strip().strip("\"'").lower()
    guesses = ("utf-8", "cp1252") if not label or label in _LATIN1_FAMILY else (label, "utf-8")
    for encoding in (*guesses, "cp1252"):
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def _visit(part: Message, body: Body, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    content_type = _safe(part.get_content_type, "text/plain")
    name = (_safe(part.get_filename, None) or "").strip()
    lowered = name.lower()
    if part.is_multipart() and content_type != "message/rfc822":
        for child in _children(part):
            _visit(child, body, depth + 1)
        return
    if content_type == "message/rfc822" or lowered.endswith(".eml"):
        attached = _attached_message(part)
        if attached is not None:
            body.messages.append(attached)
        return
    if content_type in _TSV_TYPES or lowered.endswith((".tsv", ".tab")):
        body.csvs.append((name or "attachment.tsv", _text(part), "\t"))
    elif content_type in _CSV_TYPES or lowered.endswith(".csv"):
        body.csvs.append((name or "attachment.csv", _text(part), None))
    elif content_type in _XLSX_TYPES or lowered.endswith(_XLSX_SUFFIXES):
        data = _safe(lambda: part.get_payload(decode=True), None)
        body.workbooks.append((name or "attachment.xlsx", data if isinstance(data, bytes) else b""))
    elif content_type in _SHEET_TYPES or lowered.endswith(_SHEET_SUFFIXES):
        body.sheets.append(name or content_type)
    elif content_type == "text/plain":
        is_attachment = _safe(part.get_content_disposition, None) == "attachment"
        if is_attachment and name:
            body.texts.append((name, _text(part)))
        else:
            body.plain.append(_text(part))
    elif content_type == "text/html" and _safe(part.get_content_disposition, None) != "attachment":
        body.html.append(_text(part))


def _children(part: Message) -> list[Message]:
    payload = _safe(part.get_payload, None)
    return (
        [child for child in payload if isinstance(child, Message)]
        if isinstance(payload, list)
        else []
    )


def _attached_message(part: Message) -> Message | None:
    payload = _safe(part.get_payload, None)
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    data = _safe(lambda: part.get_payload(decode=True), None)
    if isinstance(data, bytes) and data.strip():
        return email.message_from_bytes(data, policy=PARSE_POLICY)
    return None


def _text(part: Message) -> str:
    data = _safe(lambda: part.get_payload(decode=True), None)
    if not isinstance(data, bytes):
        return ""
    return decode(data, _safe(part.get_content_charset, None))


def _safe(read: Callable[[], _T], default: _T) -> _T:
    """Call a stdlib accessor; malformed MIME headers can make any of them raise."""
    try:
        return read()
    except MessageTooLarge:
        raise  # over the header budget: the whole message is refused
    except Exception:
        return default
