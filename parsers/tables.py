"""Tables: pipe, tab, CSV-style and space-aligned text in a body, and spreadsheet rows.

A header names the columns, in English or French, so the location and SpotID are read by
column, whatever the order and however many other columns (address, city, notes) sit beside
them. A spreadsheet without a header we can read is read only when its layout leaves no
doubt: exactly one column of 3–8 digit SpotIDs, next to one column of names.
"""

from __future__ import annotations

import csv
import re
from bisect import bisect_left
from dataclasses import dataclass

from parsers.extraction import Extraction, quote
from parsers.limits import DEFAULT_LIMITS, Limits, first_lines
from parsers.normalize import normalize_location, normalize_text

_SPOT_HEADER = re.compile(
    r"^(?:(?:hot\s*spot\s*)?(?:spot\s*[-_]?\s*ids?|spotids?|spot\s*(?:number|no\.?|nr\.?|#|code)"
    r"|hot\s*spot(?:\s*(?:id|number|#))?)"
    # French: "Identifiant", "Identifiant SpotID", "No SpotID", "N° de spot", "ID HotSpot".
    r"|identifiants?(?:\s+(?:hot\s*)?spot\s*(?:id)?)?"
    r"|(?:no\.?|n[°º]|num(?:[ée]ro)?\.?|#|id|code)\s*(?:de\s+|du\s+)?(?:hot\s*)?spot\s*(?:id)?s?"
    r"|ids?\s+hot\s*spot)(?:\s*\(.*\))?\s*:?$",
    re.I,
)
_BARE_ID_HEADER = re.compile(r"^(?:ids?|#)$", re.I)
_LOCATION_HEADER = re.compile(
    r"location|site|lot|facility|property|garage|parking|car\s*park|venue|name|standort"
    r"|emplacement|ubicaci[oó]n|branch|store|building|stationnement|lieu|nom|terrain",
    re.I,
)
_NOT_A_NAME_HEADER = re.compile(
    r"address|street|city|zip|postal|phone|email|adresse|rue|ville|code\s*postal"
    r"|t[ée]l[ée]phone|courriel|municipalit",
    re.I,
)
_SPOT_VALUE = re.compile(r"^#?\s*(\d{3,8})$")
_BORDER = re.compile(r"^[\s|:+=\-_]+$")
_SPACES = re.compile(r"\S+(?: \S+)*")
_DELIMITERS = ("\t", "|", ";", ",")
# A header row is short, and names a SpotID column ("SpotID", "Spot #", "ID", "Identifiant").
_MAX_HEADER_CHARS = 1_000
_HEADER_HINT = re.compile(r"spot|id|#", re.I)
# Rows a spreadsheet's header may sit below (a title, a blank line, a note).
_HEADER_SEARCH = 10
_LETTER = re.compile(r"[^\W\d_]")
_ID_DIGITS = re.compile(r"\d{3}")


@dataclass(frozen=True)
class _Layout:
    delimiter: str | None  # None: columns aligned with runs of spaces
    location: int
    spot: int
    offsets: tuple[int, ...] = ()


def read_table(
    lines: list[str], start: int, limits: Limits = DEFAULT_LIMITS
) -> tuple[Extraction, int] | None:
    """Read the table whose header is `lines[start]`; return what it held and where it ends."""
    layout = _layout(lines[start], limits)
    if layout is None:
        return None
    found = Extraction()
    index, rows = start + 1, 0
    while index < len(lines):
        line = lines[index]
        if _BORDER.match(line) and line.strip():
            index += 1
            continue
        cells = _cells(line, layout)
        if len(cells) < 2:
            break
        rows += 1
        if rows <= limits.max_sheet_rows:
            _read_row(cells, layout, line, found)
        else:
            found.warn(_too_many_rows("a table in the text", limits))
        index += 1
    return found, index


def read_csv(
    text: str, name: str, limits: Limits = DEFAULT_LIMITS, *, delimiter: str | None = None
) -> Extraction:
    """Read a CSV or TSV attachment (`delimiter` when its type says it, else guessed)."""
    text, total = first_lines(normalize_text(text), limits.max_sheet_rows + _HEADER_SEARCH)
    rows = _csv_rows(text, delimiter)
    found = read_rows(rows, name, limits, joiner=",")
    if total > limits.max_sheet_rows + _HEADER_SEARCH:
        found.warn(_too_many_rows(f"attachment {name!r}", limits))
    return found


def read_rows(
    rows: list[list[str]], name: str, limits: Limits = DEFAULT_LIMITS, *, joiner: str = " | "
) -> Extraction:
    """Read a spreadsheet's rows: by its header, else by a layout that leaves no doubt.

    A row a warning quotes is shown with its cells joined by `joiner`.
    """
    rows = [
        [cell.strip() for cell in row[: limits.max_sheet_columns]]
        for row in rows
        if any(cell.strip() for cell in row)
    ]
    found = Extraction()
    layout, start = _spreadsheet_layout(rows)
    if layout is None:
        if rows:
            found.warn(
                f"attachment {name!r}: no location and SpotID columns (no header naming them, "
                "nor one column of SpotIDs next to one of names); check it by hand"
            )
        return found
    data = rows[start:]
    for row in data[: limits.max_sheet_rows]:
        _read_row(row, layout, joiner.join(row), found)
    if len(data) > limits.max_sheet_rows:
        found.warn(_too_many_rows(f"attachment {name!r}", limits))
    return found


def _spreadsheet_layout(rows: list[list[str]]) -> tuple[_Layout | None, int]:
    """The columns to read and the first data row: a header's, else a headerless guess."""
    for position, row in enumerate(rows[:_HEADER_SEARCH]):
        columns = _header_columns(row)
        if columns is not None:
            return _Layout(delimiter=",", location=columns[0], spot=columns[1]), position + 1
    # No header: skip leading rows without a SpotID-like cell (a title, an unread header).
    start = next(
        (i for i, row in enumerate(rows[:_HEADER_SEARCH]) if any(map(_SPOT_VALUE.match, row))),
        None,
    )
    if start is None:
        return None, 0
    columns = _headerless_columns(rows[start:])
    if columns is None:
        return None, 0
    return _Layout(delimiter=",", location=columns[0], spot=columns[1]), start


def _headerless_columns(rows: list[list[str]]) -> tuple[int, int] | None:
    """(names, SpotIDs) when exactly one column holds only SpotIDs and one beside it names."""
    width = max(len(row) for row in rows)
    columns = [[row[i] if i < len(row) else "" for row in rows] for i in range(width)]

    def all_ids(cells: list[str]) -> bool:
        filled = [cell for cell in cells if cell]
        return len(filled) * 2 >= len(cells) and all(map(_SPOT_VALUE.match, filled))

    def names(cells: list[str]) -> bool:
        return sum(bool(_LETTER.search(cell)) for cell in cells) * 2 >= len(cells)

    spots = [i for i, cells in enumerate(columns) if all_ids(cells)]
    if len(spots) != 1:
        return None
    spot = spots[0]
    # The names: the one text column without numbers in it (an address has them), beside it.
    texts = [
        i
        for i, cells in enumerate(columns)
        if i != spot and names(cells) and not any(_ID_DIGITS.search(c) for c in cells)
    ]
    return (texts[0], spot) if len(texts) == 1 and abs(texts[0] - spot) == 1 else None


def _csv_rows(text: str, delimiter: str | None = None) -> list[list[str]]:
    lines = text.splitlines()
    if delimiter is None:
        sample = "\n".join(lines[:_HEADER_SEARCH])
        delimiter = max(_DELIMITERS, key=sample.count)
    try:
        return list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:
        return [line.split(delimiter) for line in lines]


def _too_many_rows(what: str, limits: Limits) -> str:
    return (
        f"{what} has more than {limits.max_sheet_rows:,} rows; only the first "
        f"{limits.max_sheet_rows:,} were read: check the rest by hand"
    )


def _layout(line: str, limits: Limits = DEFAULT_LIMITS) -> _Layout | None:
    if len(line) > _MAX_HEADER_CHARS or not _HEADER_HINT.search(line):
        return None
    if not line.strip() or re.search(r"\d{3}", line):
        return None
    for delimiter in _DELIMITERS:
        if delimiter in line:
            cells = _split(line, delimiter)
            columns = _header_columns(cells)
            if columns is not None:
                return _Layout(delimiter, *columns)
    spans = list(_SPACES.finditer(line))
    cells = [span.group() for span in spans]
    if len(cells) > limits.max_sheet_columns:
        return None
    columns = _header_columns(cells)
    if columns is None or not re.search(r"\S\s{2,}\S", line):
        return None
    return _Layout(None, *columns, offsets=tuple(span.start() for span in spans))


def _header_columns(cells: list[str]) -> tuple[int, int] | None:
    """(location column, SpotID column) when the cells read like a header row."""
    cells = [cell.strip() for cell in cells]
    spot = next((i for i, cell in enumerate(cells) if _SPOT_HEADER.match(cell)), None)
    if spot is None:
        spot = next((i for i, cell in enumerate(cells) if _BARE_ID_HEADER.match(cell)), None)
    if spot is None:
        return None
    names = [i for i, cell in enumerate(cells) if i != spot and _LOCATION_HEADER.search(cell or "")]
    preferred = [i for i in names if not _NOT_A_NAME_HEADER.search(cells[i])]
    if not names:
        return None
    return (preferred or names)[0], spot


def _split(line: str, delimiter: str) -> list[str]:
    line = line.strip()
    if delimiter == "|":
        line = line.strip("|")
    return [cell.strip() for cell in line.split(delimiter)]


def _cells(line: str, layout: _Layout) -> list[str]:
    if layout.delimiter is not None:
        return _split(line, layout.delimiter) if layout.delimiter in line else []
    spans = list(_SPACES.finditer(line))
    if len(spans) < 2:
        return []
    cells = [""] * len(layout.offsets)
    for span in spans:
        column = _nearest(layout.offsets, span.start())
        cells[column] = f"{cells[column]} {span.group()}".strip()
    return cells


def _nearest(offsets: tuple[int, ...], start: int) -> int:
    """The column whose header starts nearest `start` (the first of two equally near)."""
    right = bisect_left(offsets, start)
    if right == len(offsets):
        return right - 1
    if right == 0 or offsets[right] - start < start - offsets[right - 1]:
        return right
    return right - 1


def _read_row(cells: list[str], layout: _Layout, line: str, found: Extraction) -> None:
    location = normalize_location(cells[layout.location]) if layout.location < len(cells) else ""
    value = cells[layout.spot].strip() if layout.spot < len(cells) else ""
    match = _SPOT_VALUE.match(value)
    if location and match:
        found.add_pair(location, match.group(1))
    elif location or value:
        found.warn(f"table row without a clear location and SpotID: {quote(line)}")
