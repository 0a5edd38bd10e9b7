"""How much of a message the parser reads: the bounds that keep its work linear in the input.

Past a bound nothing is guessed and nothing is cut silently: the message is refused as too
large (`MessageTooLarge`), or the part left unread becomes a warning, which sends the request
to a person. The caller passes its own `Limits` (the pipeline builds them from its settings);
the defaults are the pipeline's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from parsers.models import UnreadableInput


class MessageTooLarge(UnreadableInput):
    """The message is over `Limits.max_message_bytes`: it is not parsed, a person reads it."""


@dataclass(frozen=True)
class Limits:
    """Bounds on one parse; every one of them is checked before the work it bounds."""

    # The raw message, in bytes (MAX_MESSAGE_BYTES); a larger one is not parsed at all.
    max_message_bytes: int = 10_000_000
    # Header fields parsed: one, and all of them in all the parts (see `parsers.message`).
    max_header_chars: int = 10_000
    max_headers_chars: int = 50_000
    max_header_fields: int = 1_000  # fields in one part's header (each read scans them all)
    # Lines read per text (a body, a text attachment); the rest is left to a person.
    max_lines: int = 20_000
    # Lines with SpotID-like numbers read per text: a list longer than this is a spreadsheet.
    max_number_lines: int = 500
    # A line still longer than this after splitting it at sentence ends is not read.
    max_line_chars: int = 4_000
    # Numbers of 3 digits or more on one line ("Lot A 14283" × 1,000 is not a request).
    max_numbers_per_line: int = 40
    # An HTML part is rendered to text only up to this size (rendering costs ~2 s per MiB).
    max_html_chars: int = 1_000_000
    # Data rows read per spreadsheet (CSV, TSV, XLSX sheet), and the XLSX file's own bounds.
    max_sheet_rows: int = 5_000
    max_sheet_columns: int = 50
    max_xlsx_bytes: int = 5_000_000
    max_xlsx_unpacked_bytes: int = 50_000_000


DEFAULT_LIMITS = Limits()


def first_lines(text: str, limit: int) -> tuple[str, int]:
    """The first `limit` lines of `text`, and how many lines it has."""
    total = text.count("\n") + 1
    if total <= limit:
        return text, total
    return "\n".join(text.split("\n", limit)[:limit]), total
