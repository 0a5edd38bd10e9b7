"""Tables with a header row: pipe, tab, CSV-style and space-aligned text, and CSV files.

A header names the columns, so the location and SpotID are read by column, whatever the
order and however many other columns (address, city, notes) sit beside them.
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
    r"^(?:hot\s*spot\s*)?(?:spot\s*[-_]?\s*ids?|spotids?|spot\s*(?:number|no\.?|nr\.?|#|code)"
    r"|hot\s*spot(?:\s*(?:id|number|#))?)(?:\s*\(.*\))?:?$",
    re.I,
)
_BARE_ID_HEADER = re.compile(r"^(?:ids?|#)$", re.I)
_LOCATION_HEADER = re.compile(
    r"location|site|lot|facility|property|garage|parking|car\s*park|venue|name|standort"
    r"|emplacement|ubicaci[oó]n|branch|store|building",
    re.I,
)
_NOT_A_NAME_HEADER = re.compile(r"address|street|city|zip|postal|phone|email", re.I)
_SPOT_VALUE = re.compile(r"^#?\s*(\d{3,8})$")
_BORDER = re.compile(r"^[\s|:+=\-_]+$")
_SPACES = re.compile(r"\S+(?: \S+)*")
_DELIMITERS = ("\t", "|", ";", ",")
# A header row is short, and names a SpotID column ("SpotID", "Spot #", "ID", "#").
_MAX_HEADER_CHARS = 1_000
_HEADER_HINT = re.compile(r"spot|id|#", re.I)


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


def read_csv(text: str, name: str, limits: Limits = DEFAULT_LIMITS) -> Extraction:
    """Read a CSV attachment: a header row names the location and SpotID columns."""
    text, total = first_lines(normalize_text(text), limits.max_sheet_rows + 5)
    rows = [row for row in _csv_rows(text) if any(cell.strip() for cell in row)]
    for position, row in enumerate(rows[:5]):
        columns = _header_columns(row)
        if columns is not None:
            layout = _Layout(delimiter=",", location=columns[0], spot=columns[1])
            found = Extraction()
            for data in rows[position + 1 :][: limits.max_sheet_rows]:
                _read_row([cell.strip() for cell in data], layout, ",".join(data), found)
            if total > limits.max_sheet_rows + 5:
                found.warn(_too_many_rows(f"attachment {name!r}", limits))
            return found
    found = Extraction()
    if rows:
        found.warn(f"attachment {name!r}: no location and SpotID columns in its header")
    return found


def _csv_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    sample = "\n".join(lines[:5])
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
