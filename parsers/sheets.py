"""XLSX attachments (what Excel, LibreOffice and Google Sheets export), read like CSV files.

openpyxl in read-only mode, within bounds: the file's size and its unpacked size (a zip
bomb is refused before it is opened), and rows and columns per sheet. Its XML is parsed with
defusedxml (installed with the project), so entity tricks are refused too. Each sheet is
read as `parsers.tables.read_rows` reads a CSV file; a sheet without any SpotID-like cell
(instructions, notes) is passed over quietly, and a file that cannot be opened is a warning.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from typing import Any

from parsers.extraction import Extraction
from parsers.limits import DEFAULT_LIMITS, Limits
from parsers.tables import read_rows

_MAX_SHEETS = 20
# Rows beyond the bound are counted, not read, up to this many more (to say there were more).
_SPOT_LIKE = re.compile(r"^#?\s*\d{3,8}$")
_ZERO_PADDED = re.compile(r"^0+$")


def read_xlsx(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> Extraction:
    """The pairs of every sheet of an XLSX workbook, or a warning saying why it was not read."""
    found = Extraction()
    refusal = _refusal(data, limits)
    if refusal is not None:
        found.warn(f"attachment {name!r} {refusal}; check it by hand")
        return found
    try:
        sheets = _sheets(data, limits)
    except Exception as exc:  # openpyxl, zipfile and XML errors of every kind
        found.warn(
            f"attachment {name!r} could not be read as a spreadsheet "
            f"({type(exc).__name__}); check it by hand"
        )
        return found
    for title, rows in sheets:
        if not any(_SPOT_LIKE.match(cell) for row in rows for cell in row):
            continue  # instructions, notes, an empty sheet
        label = name if len(sheets) == 1 else f"{name}, sheet {title!r}"
        found.extend(read_rows(rows, label, limits))
    if found.empty:
        found.warn(f"attachment {name!r} holds no SpotIDs we can read; check it by hand")
    return found


def _refusal(data: bytes, limits: Limits) -> str | None:
    if len(data) > limits.max_xlsx_bytes:
        return f"is {len(data):,} bytes, over the {limits.max_xlsx_bytes:,} read"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return "is not a readable XLSX file"
    if unpacked > limits.max_xlsx_unpacked_bytes:
        return f"unpacks to {unpacked:,} bytes, over the {limits.max_xlsx_unpacked_bytes:,} read"
    return None


def _sheets(data: bytes, limits: Limits) -> list[tuple[str, list[list[str]]]]:
    from openpyxl import load_workbook  # imported here: only mail with a workbook needs it

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets = []
        for sheet in workbook.worksheets[:_MAX_SHEETS]:
            rows = [
                [_text(cell) for cell in row]
                for row in sheet.iter_rows(
                    max_row=limits.max_sheet_rows + 11, max_col=limits.max_sheet_columns
                )
            ]
            sheets.append((str(sheet.title), rows))
        return sheets
    finally:
        workbook.close()


def _text(cell: Any) -> str:
    """A cell as its user sees it: 14283 for 14283.0, 01234 when formatted with zeros."""
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        number_format = str(getattr(cell, "number_format", "") or "")
        if _ZERO_PADDED.match(number_format):
            text = text.zfill(len(number_format))
        return text
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return " ".join(str(value).split())
