"""Read (location, SpotID) pairs out of free text, line by line.

Each line is read on its own: noise numbers are masked (see `parsers.noise`), the remaining
3–8 digit numbers are the candidates, and each takes its location from the words in front of
it ("Lot A: 14283", "Lot A uses SpotID 14283 and Lot B is 15320") or, when nothing name-like
stands in front of the first one, from the words behind it ("SpotID 17777 (Lot D)").

A line we cannot read with certainty is never guessed: it becomes a warning that quotes it
(two numbers for one name, a SpotID of the wrong length, a name that reads like a sentence).
A lone SpotID without a name borrows one from a neighbouring "Location: Lot A" or "Lot A:"
line of the same block, else it is a warning too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from parsers import locations
from parsers.extraction import Extraction, quote
from parsers.noise import mask
from parsers.normalize import normalize_location, normalize_text
from parsers.tables import read_table

_LABEL_GLUED = re.compile(rf"({locations.LABEL})(?=\d)", re.I)
# "SpotID 1: 14283" in numbered templates: the 1 counts entries, it is not a SpotID.
_LABEL_INDEX = re.compile(rf"({locations.LABEL})\s*#?\d{{1,2}}\s*(?=[:=\-–])", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•·‣◦▪■●○–—+>]+|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)])\s+")
_TOKEN = re.compile(r"(?<![\w\ue000])(\d+(?:[.,/\-]\d+)*)(?![\w\ue000])")
_AMOUNT = re.compile(
    r"^(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+[.,]\d{1,2})$"
)
_LABEL_BEFORE = re.compile(rf"(?:{locations.LABEL})\s*[:#=\-–]?\s*#?\s*$", re.I)
_LOCATION_LINE = re.compile(
    r"^(?:(?:parking|car\s*park|lot|site|location|facility|property|garage|venue|building"
    r"|branch|standort|emplacement|ubicaci[oó]n)(?:\s*(?:name|location))?"
    r"|name\s+of\s+(?:the\s+)?(?:location|site|lot|garage|facility))"
    r"\s*(?:#?\d{1,2})?\s*[:=\t|]\s*(?P<location>\S.*)$",
    re.I,
)
# "Lot 101", "Store #1234": the number is part of the location's name.
_NAME_NUMBER = re.compile(
    r"(?:\b(?:lot|garage|store|shop|level|deck|building|site|location|structure|ramp|facility"
    r"|zone|area|section|gate|entrance|branch|station|terminal|parking|park|plaza|center|centre"
    r"|tower|office|property|parkhaus|parkplatz)\s*#?|[^\W\d_]\s*#)\s*$",
    re.I,
)
_HEADING = re.compile(r"^(?P<location>[^\W\d_][^:]{0,50}):$")
_LONG_LINE = 2000
_NEIGHBOURS = 3
_TITLE_WORDS = 5


@dataclass
class _Line:
    """What one line holds: certain pairs, a lone SpotID, a warning, or a name for a neighbour."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    orphan: str | None = None
    labelled: bool = False  # the lone SpotID carries a "SpotID" label
    warning: str | None = None
    name: str | None = None
    # "label" (Location: Lot A) serves lines above and below, "heading" (Lot A:) those
    # below, "title" (a bare short line) only a labelled SpotID directly below it.
    name_kind: Literal["label", "heading", "title"] = "title"

    @property
    def has_numbers(self) -> bool:
        return bool(self.pairs or self.orphan or self.warning)


def extract_text(text: str) -> Extraction:
    """All pairs and warnings in `text`, in the order they are written."""
    lines = _split_lines(normalize_text(text))
    reads: list[_Line] = []
    tables: dict[int, Extraction] = {}
    index = 0
    while index < len(lines):
        table = read_table(lines, index)
        if table is not None:
            tables[index], end = table
            reads.extend(_Line() for _ in range(index, end))
            index = end
            continue
        reads.append(read_line(lines[index]))
        index += 1
    _resolve_orphans(lines, reads)
    found = Extraction()
    for number, read in enumerate(reads):
        if number in tables:
            found.extend(tables[number])
        for pair in read.pairs:
            found.add_pair(*pair)
        if read.warning:
            found.warn(read.warning)
    return found


def read_line(raw: str) -> _Line:
    """Read one line on its own (neighbours are consulted later, for lone SpotIDs)."""
    line = _LABEL_GLUED.sub(r"\1 ", _BULLET.sub("", raw)).rstrip()
    line = _LABEL_INDEX.sub(r"\1 ", line)
    masked = mask(line)
    tokens = [match for match in _TOKEN.finditer(masked) if _kind(match, masked)]
    if not tokens:
        return _named(line)
    ids_ok = all(_kind(token, masked) == "id" for token in tokens)
    edges = [0, *(t.end() for t in tokens)]
    names = [locations.before(line[edges[i] : t.start()]) for i, t in enumerate(tokens)]
    if not names[0]:
        ends = [*(t.start() for t in tokens[1:]), len(line)]
        names = [locations.after(line[t.end() : ends[i]]) for i, t in enumerate(tokens)]
    if len(tokens) == 1 and not names[0]:
        if ids_ok:
            return _Line(
                orphan=tokens[0].group(1),
                labelled=bool(_LABEL_BEFORE.search(masked[: tokens[0].start()])),
                warning=f"SpotID without a location: {quote(raw)}",
            )
        return _Line(warning=f"not a 3–8 digit SpotID: {quote(raw)}")
    if not ids_ok:
        return _Line(warning=f"not a 3–8 digit SpotID: {quote(raw)}")
    if not all(names) or any(locations.uncertain(name) for name in names):
        return _Line(warning=f"cannot tell which SpotID belongs to which location: {quote(raw)}")
    return _Line(pairs=[(name, t.group(1)) for name, t in zip(names, tokens, strict=True)])


def _kind(token: re.Match[str], masked: str) -> str | None:
    """Classify a number: a 3–8 digit candidate ("id"), a wrong-shaped SpotID ("bad"), noise."""
    value = token.group(1)
    labelled = bool(_LABEL_BEFORE.search(masked[: token.start()]))
    if not labelled and _NAME_NUMBER.search(masked[: token.start()]):
        return None
    if value.isdigit():
        if 3 <= len(value) <= 8:
            return "id"
        return "bad" if labelled or 9 <= len(value) <= 12 else None
    if _AMOUNT.match(value):
        return "bad" if labelled else None
    parts = re.split(r"[.,/\-]", value)
    return "bad" if any(3 <= len(part) <= 8 for part in parts) else None


def _named(line: str) -> _Line:
    """The location a number-free line offers its neighbours, if it offers one."""
    line = line.strip()
    match = _LOCATION_LINE.match(line)
    if match:
        return _Line(name=normalize_location(match.group("location")) or None, name_kind="label")
    heading = _HEADING.match(line)
    text = heading.group("location") if heading else line
    if len(text.split()) > _TITLE_WORDS:
        return _Line()
    name = locations.before(text)
    if name != normalize_location(text) or locations.uncertain(name):
        return _Line()
    return _Line(name=name or None, name_kind="heading" if heading else "title")


def _resolve_orphans(lines: list[str], reads: list[_Line]) -> None:
    """Give a lone SpotID the name of a neighbouring line in its block, nearest first."""
    used: set[int] = set()
    for index, read in enumerate(reads):
        if read.orphan is None:
            continue
        for neighbour in _neighbours(lines, reads, index):
            near = reads[neighbour]
            fits = {
                "label": True,
                "heading": neighbour < index,
                "title": neighbour == index - 1 and read.labelled,
            }[near.name_kind]
            if near.name and fits and neighbour not in used:
                used.add(neighbour)
                read.pairs, read.warning = [(near.name, read.orphan)], None
                break


def _neighbours(lines: list[str], reads: list[_Line], index: int) -> list[int]:
    found: list[int] = []
    for step in (-1, 1):
        cursor = index + step
        while 0 <= cursor < len(lines) and abs(cursor - index) <= _NEIGHBOURS:
            if not lines[cursor].strip() or reads[cursor].has_numbers:
                break
            found.append(cursor)
            cursor += step
    return found


def _split_lines(text: str) -> list[str]:
    """Lines, with over-long ones (HTML paragraphs) broken at sentence ends."""
    lines: list[str] = []
    for line in text.split("\n"):
        if len(line) > _LONG_LINE:
            lines.extend(re.split(r"(?<=[.!?;])\s+", line))
        else:
            lines.append(line)
    return lines
