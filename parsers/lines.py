"""Read (location, SpotID) pairs out of free text, line by line.

Each line is read on its own: noise numbers are masked (see `parsers.noise`), the remaining
3–8 digit numbers are the candidates, and each takes its location from the words in front of
it ("Lot A: 14283", "Lot A uses SpotID 14283 and Lot B is 15320") or, when nothing name-like
stands in front of the first one, from the words behind it ("SpotID 17777 (Lot D)").

A line we cannot read with certainty is never guessed: it becomes a warning that quotes it
(two numbers for one name, a SpotID of the wrong length, a name that reads like a sentence).
A lone SpotID without a name borrows one from a neighbouring "Location: Lot A" or "Lot A:"
line of the same block, else it is a warning too.

The work is linear in the text: every look back from a number reads a bounded window, and
the bounds of `parsers.limits` (lines, lines with numbers, line length, numbers per line)
turn whatever lies beyond them into a warning instead of more work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from parsers import locations
from parsers.extraction import Extraction, quote
from parsers.limits import DEFAULT_LIMITS, Limits, first_lines
from parsers.noise import MASK, mask
from parsers.normalize import DASHES, SYMBOLS, cap_blanks, normalize_location, normalize_text
from parsers.tables import read_table

_LABEL_GLUED = re.compile(rf"({locations.LABEL})(?=\d)", re.I)
# "SpotID 1: 14283" in numbered templates: the 1 counts entries, it is not a SpotID.
_LABEL_INDEX = re.compile(rf"({locations.LABEL})\s*#?\d{{1,2}}\s*(?=[:=\-–])", re.I)
_BULLET = re.compile(
    rf"^\s*(?:[{DASHES}*•·‣◦▪■●○+>{SYMBOLS}]+\s*|\(?\d{{1,2}}[.)](?:\s+|(?=[^\W\d_]))"
    r"|\(?[a-zA-Z][.)]\s+)(?=\S)"
)
_TOKEN = re.compile(r"(?<![\w\ue000])(\d+(?:[.,/\-]\d+)*)(?![\w\ue000])")
_AMOUNT = re.compile(
    r"^(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+[.,]\d{1,2})$"
)
_LABEL_BEFORE = re.compile(rf"(?:{locations.LABEL})\s*[:#=\-–]?\s*#?\s*$", re.I)
_LOCATION_LINE = re.compile(
    r"^(?:(?:parking|car\s*park|lot|site|location|facility|property|garage|venue|building"
    r"|branch|standort|emplacement|ubicaci[oó]n|stationnement|lieu|terrain)"
    r"(?:\s*(?:name|location))?"
    r"|name\s+of\s+(?:the\s+)?(?:location|site|lot|garage|facility)"
    r"|nom\s+(?:du|de\s+l['’])\s*(?:stationnement|emplacement|terrain|site|lieu))"
    r"\s*(?:#?\d{1,2})?\s*[:=\t|]\s*(?P<location>\S.*)$",
    re.I,
)
# "Registered in England No. 1234567": a number named "No." is a reference, not a SpotID,
# unless it names a parking place ("Stationnement Berri no 18002", as Québec writes it).
_NUMBERED = re.compile(r"[^\W\d_]\s+(?:no|nr|number)\.?\s*$", re.I)
_PLACE_NUMBERED = re.compile(
    r"\b(?:stationnement|parking|parc|lot|garage|emplacement|terrain)\b[^\W\d_]*"
    r"(?:\s+[^\W\d_][\w'’-]*){1,4}\s+(?:no|n[°º])\.?\s*$",
    re.I,
)
# "Lot 101", "Store #1234": a number glued to a facility word may be part of the name.
_NAME_NUMBER = re.compile(
    r"(?:\b(?:lot|garage|store|shop|level|deck|building|site|location|structure|ramp|facility"
    r"|zone|area|section|gate|entrance|branch|station|terminal|parking|park|plaza|center|centre"
    r"|tower|office|property|parkhaus|parkplatz|stationnement|terrain|niveau|étage|porte"
    r"|entrée|aire|quai|tour|édifice|bâtiment|secteur)\s*#?|[^\W\d_]\s*#)\s*$",
    re.I,
)
_HEADING = re.compile(r"^(?P<location>[^\W\d_][^:]{0,50}):$")
_LONG_LINE = 2000
# How far the label and name patterns look back from a number: their longest match, with
# blank runs capped (`cap_blanks`), is under 100 characters.
_LOOK_BACK = 120
_DIGIT = re.compile(r"\d")
_ID_DIGITS = re.compile(r"\d{3}")
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
    # A line without digits: the name it offers is read only when a neighbour needs it.
    plain: str | None = None

    @property
    def has_numbers(self) -> bool:
        return bool(self.pairs or self.orphan or self.warning)

    def named(self) -> _Line:
        if self.plain is not None:
            offered = _named(_prepare(self.plain))
            self.name, self.name_kind, self.plain = offered.name, offered.name_kind, None
        return self


def extract_text(text: str, limits: Limits = DEFAULT_LIMITS) -> Extraction:
    """All pairs and warnings in `text`, in the order they are written."""
    found = Extraction()
    text, total = first_lines(normalize_text(text), limits.max_lines)
    if total > limits.max_lines:
        found.warn(
            f"the text has {total:,} lines and only the first {limits.max_lines:,} were read; "
            "check the rest by hand"
        )
    lines = _split_lines(text)
    reads: list[_Line] = []
    tables: dict[int, Extraction] = {}
    index = number_lines = 0
    while index < len(lines):
        table = read_table(lines, index, limits)
        if table is not None:
            tables[index], end = table
            reads.extend(_Line() for _ in range(index, end))
            index = end
            continue
        read = _read_line(lines[index], limits)
        number_lines += read.has_numbers
        if number_lines > limits.max_number_lines:
            found.warn(
                f"more than {limits.max_number_lines:,} lines hold numbers; only the first "
                f"{limits.max_number_lines:,} were read: check the rest by hand"
            )
            break
        reads.append(read)
        index += 1
    lines = lines[: len(reads)]
    _resolve_orphans(lines, reads)
    for number, read in enumerate(reads):
        if number in tables:
            found.extend(tables[number])
        for pair in read.pairs:
            found.add_pair(*pair)
        if read.warning:
            found.warn(read.warning)
    return found


def _read_line(raw: str, limits: Limits = DEFAULT_LIMITS) -> _Line:
    """Read one line on its own (neighbours are consulted later, for lone SpotIDs)."""
    if not _DIGIT.search(raw):
        return _Line(plain=raw)
    if len(raw) > limits.max_line_chars:
        if not _ID_DIGITS.search(raw):
            return _Line()
        return _Line(warning=f"a line of {len(raw):,} characters, too long to read: {quote(raw)}")
    line = _prepare(raw)
    masked = mask(line)
    found = list(_TOKEN.finditer(masked))
    numbers = sum(1 for token in found if _ID_DIGITS.search(token.group(1)))
    if numbers > limits.max_numbers_per_line:
        return _Line(
            warning=f"{numbers} numbers on one line, more than the "
            f"{limits.max_numbers_per_line} read on a line: {quote(raw)}"
        )
    tokens = [(t, kind) for t in found if (kind := _kind(t, masked)) is not None]
    tokens = [pair for i, pair in enumerate(tokens) if not _in_name(line, masked, tokens, i)]
    if not tokens:
        return _Line(plain=raw)
    names = _names(line, [token for token, _ in tokens])
    well_formed = all(kind == "id" for _, kind in tokens)
    if not well_formed:
        return _Line(warning=f"not a 3–8 digit SpotID: {quote(raw)}")
    if len(tokens) == 1 and not names[0]:
        token = tokens[0][0]
        return _Line(
            orphan=token.group(1),
            labelled=_labelled(masked, token.start()),
            warning=f"SpotID without a location: {quote(raw)}",
        )
    if (
        not all(names)
        or any(locations.uncertain(name) for name in names)
        or _starts_with_noise(line, masked, names, [token for token, _ in tokens])
    ):
        return _Line(warning=f"cannot tell which SpotID belongs to which location: {quote(raw)}")
    return _Line(pairs=[(name, t.group(1)) for name, (t, _) in zip(names, tokens, strict=True)])


def _prepare(raw: str) -> str:
    """The line without its bullet, labels unglued ("SpotID14283"), blank runs capped."""
    line = _LABEL_GLUED.sub(r"\1 ", _BULLET.sub("", raw)).rstrip()
    return _LABEL_INDEX.sub(r"\1 ", cap_blanks(line))


def _names(line: str, tokens: list[re.Match[str]]) -> list[str]:
    """Each number's location: the words in front of it, else (if the first has none) behind."""
    starts = [0, *(token.end() for token in tokens)]
    names = [locations.before(line[starts[i] : t.start()]) for i, t in enumerate(tokens)]
    if names[0]:
        return names
    ends = [*(token.start() for token in tokens[1:]), len(line)]
    return [locations.after(line[t.end() : ends[i]]) for i, t in enumerate(tokens)]


def _starts_with_noise(
    line: str, masked: str, names: list[str], tokens: list[re.Match[str]]
) -> bool:
    """True when a name would open with a quantity, a phone number or a date ("120 places au
    Stationnement Berri"): what is left of a sentence, not a name."""
    if MASK not in masked:
        return False
    bounds = [0, *(token.end() for token in tokens), len(line)]
    for name in names:
        for start, end in zip(bounds, bounds[1:], strict=False):
            found = line.rfind(name, start, end)
            if found >= 0 and masked[found] == MASK:
                return True
    return False


def _kind(token: re.Match[str], masked: str) -> Literal["id", "bad"] | None:
    """Classify a number: a 3–8 digit candidate ("id"), a wrong-shaped SpotID ("bad"), noise."""
    value = token.group(1)
    labelled = _labelled(masked, token.start())
    back = max(0, token.start() - _LOOK_BACK)
    if (
        not labelled
        and _NUMBERED.search(masked, back, token.start())
        and not _PLACE_NUMBERED.search(masked, back, token.start())
    ):
        return None
    if value.isdigit():
        if 3 <= len(value) <= 8:
            return "id"
        return "bad" if labelled or 9 <= len(value) <= 12 else None
    if _AMOUNT.match(value):
        return "bad" if labelled else None
    parts = re.split(r"[.,/\-]", value)
    return "bad" if any(3 <= len(part) <= 8 for part in parts) else None


def _in_name(
    line: str, masked: str, tokens: Sequence[tuple[re.Match[str], str]], index: int
) -> bool:
    """True for "Lot 101: 14283" and a bare "Lot 14283"; "Airport Lot 14283" gives a SpotID."""
    token = tokens[index][0]
    start = token.start()
    if _labelled(masked, start) or not _NAME_NUMBER.search(
        masked, max(0, start - _LOOK_BACK), start
    ):
        return False
    if index + 1 < len(tokens):  # only a separator before the next number: "Lot 101: 14283"
        return not locations.before(line[token.end() : tokens[index + 1][0].start()])
    start = tokens[index - 1][0].end() if index else 0
    return len(locations.before(line[start : token.start()]).split()) <= 1


def _labelled(masked: str, start: int) -> bool:
    return bool(_LABEL_BEFORE.search(masked, max(0, start - _LOOK_BACK), start))


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
            near = reads[neighbour].named()
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
