"""Read a SpotID request out of a raw email (RFC 5322 bytes).

What counts, in order: the sender's newest text (quoted history and signatures are
ignored), text/plain when it yields pairs else the HTML alternative, then .txt attachments and
spreadsheets (CSV, TSV, XLSX; old .xls, .ods and .numbers files are a warning). When all that
holds no SpotIDs, a forward is read from the forwarded part (inline, or an attached
message/rfc822); when nothing at all was found, the subject line.

Bounds (`parsers.limits.Limits`, passed in by the caller): a message over
`max_message_bytes` is refused unread (`MessageTooLarge`); past the other bounds the rest of a
text or a spreadsheet is left unread and a warning says so, which sends the request to review.

Outcome rules:
- pairs found: a `SpotIDRequest` (warnings list what was unsure, and send it to review);
- no pairs but warnings (e.g. "Lot C: 14283 or 14284"): a request with `spots=[]` and the
  warnings, so a human reads it rather than the sender getting a refusal;
- neither, and the newest text asks where the integration stands
  (`parsers.status_question`): a request of kind `status_question`, no spots; one that asks
  something about it in words not read with certainty: `spots=[]` with a warning (review);
  one that says the sender does not know its SpotIDs (`parsers.discovery`): kind
  `find_spot_ids`, with the locations it lists;
- otherwise: `NotASpotIDRequest("no SpotIDs found in the message")`;
- robots (auto-replies, bounces): `NotASpotIDRequest` naming the header or subject;
- not an email at all: `UnreadableInput`.
"""

from __future__ import annotations

import email
from email.message import EmailMessage, Message

from parsers import headers, mime, quoting
from parsers.authentication import read_sender_evidence
from parsers.discovery import asks_to_find_spot_ids, locations_without_spot_ids
from parsers.extraction import Extraction
from parsers.html import html_to_text
from parsers.limits import DEFAULT_LIMITS, Limits, MessageTooLarge, first_lines
from parsers.lines import extract_text
from parsers.message import PARSE_POLICY, header_budget
from parsers.models import NotASpotIDRequest, SpotIDRequest, UnreadableInput
from parsers.sheets import read_xlsx
from parsers.status_question import MAX_CHARS, classify_status_question
from parsers.tables import read_csv

_KNOWN_HEADERS = frozenset(
    "from to cc subject date message-id mime-version content-type received return-path "
    "delivered-to sender reply-to".split()
)
_MAX_NESTING = 5


def parse_email(raw: bytes | str, *, limits: Limits = DEFAULT_LIMITS) -> SpotIDRequest:
    """Parse one raw email into a request; see the module docstring for the outcomes."""
    size = len(raw.encode("utf-8", "replace") if isinstance(raw, str) else raw)
    if size > limits.max_message_bytes:
        raise MessageTooLarge(
            f"the message is {size:,} bytes, over the {limits.max_message_bytes:,} bytes read"
        )
    try:
        with header_budget(limits):
            return _parse(raw, limits)
    except RecursionError as exc:  # the stdlib's address parser recurses into comments
        raise UnreadableInput("nested too deeply to read (header comments or parts)") from exc


def _parse(raw: bytes | str, limits: Limits) -> SpotIDRequest:
    message = _message(raw)
    subject = headers.header(message, "Subject")
    address, name = headers.sender(message)
    reason = headers.refusal(message, subject, address)
    if reason:
        raise NotASpotIDRequest(reason)
    reading = _Reading(limits)
    found = reading.message(message, forward=quoting.is_forward_subject(subject), depth=0)
    if found.empty and subject:
        from_subject = extract_text(subject, limits)
        if from_subject.pairs:
            found = from_subject
    if found.empty:
        return _status_question(message, subject, address, name)
    entries = found.entries()
    missing = locations_without_spot_ids(
        subject, _newest_text(message), named=[entry.location for entry in entries]
    )
    return SpotIDRequest(
        source="email",
        sender=address,
        sender_name=name,
        subject=subject,
        message_id=headers.header(message, "Message-ID"),
        spots=entries,
        sender_evidence=read_sender_evidence(message),
        recipients=headers.recipients(message),
        warnings=[*found.warnings, *found.conflict_warnings()],
        locations=missing,
    )


def _newest_text(message: EmailMessage) -> str:
    """The text the sender wrote in this message: no quoted reply, no signature."""
    body = mime.collect(message)
    text = "\n".join(body.plain) or "\n".join(html_to_text(part) for part in body.html[:1])
    return quoting.cut_signature(quoting.split(text[: 4 * MAX_CHARS]).new)


def _status_question(
    message: EmailMessage, subject: str | None, address: str | None, name: str | None
) -> SpotIDRequest:
    """An email without SpotIDs: a status question, one a person should read, or a refusal."""
    newest = _newest_text(message)
    found = SpotIDRequest(
        source="email",
        sender=address,
        sender_name=name,
        subject=subject,
        message_id=headers.header(message, "Message-ID"),
        spots=[],
        sender_evidence=read_sender_evidence(message),
    )
    listed = asks_to_find_spot_ids(subject, newest)
    if listed is not None:
        return found.model_copy(update={"kind": "find_spot_ids", "locations": listed})
    verdict = classify_status_question(subject, newest)
    if verdict.verdict == "no":
        raise NotASpotIDRequest("no SpotIDs found in the message")
    return found.model_copy(
        update={
            "warnings": [verdict.why] if verdict.verdict == "unsure" else [],
            "kind": "status_question" if verdict.verdict == "status" else "spot_ids",
            "language": verdict.language,
        }
    )


def _message(raw: bytes | str) -> EmailMessage:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    raw = raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n\t ")
    if not raw:
        raise UnreadableInput("empty input; not an email")
    try:
        message = email.message_from_bytes(raw, policy=PARSE_POLICY)
    except MessageTooLarge:
        raise
    except Exception as exc:  # the stdlib parser is lenient; this is its last resort
        raise UnreadableInput(f"not an email: {exc}") from exc
    if not any(key.lower() in _KNOWN_HEADERS for key in message.keys()):
        raise UnreadableInput("no mail headers (From, To, Subject ...); not an email")
    return message


class _Reading:
    """Reading one message's parts under the caller's bounds."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def message(self, message: Message, *, forward: bool, depth: int) -> Extraction:
        body = mime.collect(message)
        found = self.best_body(body, forward=forward)
        for _name, text in body.texts:
            found.extend(extract_text(text, self.limits))
        for name, text, delimiter in body.csvs:
            found.extend(read_csv(text, name, self.limits, delimiter=delimiter))
        for name, data in body.workbooks:
            found.extend(read_xlsx(data, name, self.limits))
        for name in body.sheets:
            found.warn(f"attachment {name!r} is a spreadsheet we cannot read; check it by hand")
        if not found.pairs and depth < _MAX_NESTING:
            for attached in body.messages:
                inner = self.message(attached, forward=False, depth=depth + 1)
                if inner.pairs:
                    found.extend(inner)
                    break
        return found

    def best_body(self, body: mime.Body, *, forward: bool) -> Extraction:
        """text/plain when it yields pairs, else the HTML version, else whichever has warnings."""
        plain = self.text("\n".join(body.plain), forward=forward, depth=0)
        if plain.pairs or not body.html:
            return plain
        size = sum(len(part) for part in body.html)
        if size > self.limits.max_html_chars:
            plain.warn(
                f"the HTML version is {size:,} characters, over the "
                f"{self.limits.max_html_chars:,} read; check it by hand"
            )
            return plain
        html = "\n".join(html_to_text(part) for part in body.html)
        rendered = self.text(html, forward=forward, depth=0)
        return rendered if rendered.pairs or plain.empty else plain

    def text(self, text: str, *, forward: bool, depth: int) -> Extraction:
        """The newest text's pairs; if it has none, those of the message it forwards."""
        text, total = first_lines(text, self.limits.max_lines)
        parts = quoting.split(text, forward=forward)
        found = self.new(parts.new)
        if not found.pairs and parts.forwarded is not None and depth < _MAX_NESTING:
            found.extend(self.text(parts.forwarded, forward=False, depth=depth + 1))
        if total > self.limits.max_lines:
            found.warn(
                f"the message has {total:,} lines and only the first {self.limits.max_lines:,} "
                "were read; check the rest by hand"
            )
        return found

    def new(self, text: str) -> Extraction:
        """Read above the signature; if that holds no pairs, the "sign-off" may have been early."""
        found = extract_text(quoting.cut_signature(text), self.limits)
        if not found.pairs:
            whole = extract_text(text, self.limits)
            if whole.pairs:
                return whole
        return found
