"""Cut a location name out of the words around a SpotID, or say it cannot be done safely.

`before` reads the text in front of a number ("Sorry, one more: Lot C:" -> "Lot C"), `after`
the text behind it ("(Lot D)" -> "Lot D"). Both return "" when nothing name-like is left, and
`uncertain` flags what still reads like a sentence rather than a name.

Both read at most `_WINDOW` characters next to the number, so their work is bounded whatever
the line: a name is short, and text cut at the window's edge is marked (`_CUT`) so that a name
running into the cut is uncertain rather than a fragment passed off as a name.
"""

from __future__ import annotations

import re

from parsers.normalize import DASHES, SYMBOLS, cap_blanks, normalize_location

LABEL = (
    r"(?:hot\s*spot\s*)?(?:spot\s*[-_]?\s*ids?|spotids?|spot\s*(?:number|no\.?|nr\.?|#)|ids?)"
    r"(?:\s*(?:number|no\.?|nr\.?|#))?|hot\s*spot"
)
_CELL_SPLIT = re.compile(r"\t|\s*\|\s*|\s{2,}")
# A lower-case article is not part of a name ("for the Riverside Deck"); "The Plaza" keeps it.
_ARTICLE = re.compile(r"^the\s+(?=\S)")
_EDGE = rf"[\s:;,.{DASHES}=|<>«»‹›~#(\[{{*_/•·'\"“”„‘’{SYMBOLS}]"
# Label words in any case; small words only in lower case, so "Lot OR" keeps its name.
_TRAILING = re.compile(
    rf"(?:{_EDGE}+|(?:['’]s\s+)?(?<![\w])(?i:{LABEL}|no|nr|number)"
    r"|(?<![\w])(?:is|are|was|uses?|has|have|gets?|with|please|should\s+be|will\s+be"
    r"|would\s+be|be|becomes|equals|the|our|its|their|code|of|for|at|and|or|as|using|to|it's"
    r"|it\s+is|which|that|->|=>))$"
)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|bonjour|hallo|hola|ciao|hej"
    r"|guten\s+tag)\b[^,:;]*[,:;]\s*",
    re.I,
)
_LEADING = re.compile(
    rf"^(?:{_EDGE}+|[)\]}}]+|p\.\s?s\.|ps(?=[:.])|(?:please|kindly|also|and|&|plus|then|so|ok|okay|yes|sorry|oh|finally"
    r"|lastly|additionally|one\s+more|another(?:\s+one)?|here(?:'s|\s+is|\s+are)|this\s+is"
    r"|that\s+is|it\s+is|is|add|adding|added|connect|connecting|configure|set\s*up|setting\s+up"
    r"|include|including|enable|register|activate|use|using|goes\s+to|belongs\s+to|for|at"
    r"|change|update|correct|move|switch|make"
    r"|(?:we|i)(?:'d|\s+would)\s+like(?:\s+to)?|can\s+you|could\s+you|would\s+you|our|my|your"
    r"|(?:we|i)\s+(?:have|use|got)|we've\s+got|(?:we|i)(?:'re|\s+are|'m|\s+am)\s+using"
    r"|there(?:'s|\s+is|\s+are)"
    r"|(?:location|site)(?=\s*[\"“'])"
    rf"|(?:the\s+)?(?:{LABEL}|spot|number|code)s?\s+(?:for|of|at))\b)",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?]\s+(?=[A-ZÀ-Þ])")
_ABBREVIATION = re.compile(r"(?:^|[\s.])(?:st|dr|mt|ft|no|nr|mr|mrs|ms|ave|jr|sr|co|[a-z])$", re.I)
_AFTER_CUT = re.compile(r",\s|;|\s(?:and|but|please|thanks|thank\s+you|which|that)\s", re.I)
_STOP = frozenset(
    "is are was the and or but for to of in on at with by it this that these those one ones "
    "here there below above following spotid spotids spot id ids number numbers no nr code "
    "hotspot our my your their its we i you new old also please thanks thank too as well then "
    "so ok yes sorry correction instead not now same other another location locations site "
    "sites name".split()
)
_SENTENCE_WORDS = frozenset(
    "i me we us you my your it they them is are was were be been being have has had need needs "
    "want wants would will can could should shall may might must please send sent call contact "
    "attached see let know thanks thank do does did get got make made take took go went come "
    "came started opened about approximately around than more less per each every only just "
    "still already which what when where who how why if because these those up set following "
    "below above there too also sheet spreadsheet file list attachment attached email mail "
    "message document".split()
)
# A name does not start with a preposition: "is in the sheet" is a sentence, not a place.
_PREPOSITION_START = re.compile(r"^(?:in|on|from|to|with|by|into|within)\s")
_MAX_WORDS = 8
_WINDOW = 240
_TAIL = 120
# Marks where a window cut the text; a name that still holds it ran into the cut.
_CUT = "\ue001"


def before(segment: str) -> str:
    """The location written in front of a SpotID, or ""."""
    if len(segment) > _WINDOW:
        segment = _CUT + segment[-_WINDOW:]
    segment = cap_blanks(segment)
    if _cell_edge(segment[::-1]):
        segment = _nearest_cell(segment, last=True)
    previous = None
    while previous != segment:
        previous = segment
        segment = _after_last_break(_strip_end(segment))
        segment = _strip(_LEADING, _GREETING.sub("", segment.strip()))
    return _finish(_strip(_ARTICLE, segment))


def after(segment: str) -> str:
    """The location written behind a SpotID, or ""."""
    if len(segment) > _WINDOW:
        segment = segment[:_WINDOW] + _CUT
    segment = cap_blanks(segment)
    if _cell_edge(segment):
        segment = _nearest_cell(segment, last=False)
    segment = _strip(_LEADING, segment)
    cut = _AFTER_CUT.search(segment)
    if cut:
        segment = segment[: cut.start()]
    match = _SENTENCE_END.search(segment)
    if match and not _ABBREVIATION.search(segment[: match.start()]):
        segment = segment[: match.start()]
    return _finish(_strip(_ARTICLE, _strip_end(segment)))


def uncertain(location: str) -> bool:
    """True when the name is long or reads like a sentence, so a human should decide."""
    words = re.findall(r"[\w']+", location.casefold())
    return (
        _CUT in location
        or len(words) > _MAX_WORDS
        or any(word in _SENTENCE_WORDS for word in words)
        or bool(_PREPOSITION_START.match(location))
    )


def _strip(pattern: re.Pattern[str], segment: str) -> str:
    """Remove `pattern` from the segment's edge until nothing more comes off."""
    while True:
        stripped = segment.strip()
        segment, count = pattern.subn("", stripped)
        if not count or segment == stripped:
            return segment


def _strip_end(segment: str) -> str:
    """`_strip(_TRAILING, segment)`, looking only at the segment's last _TAIL characters.

    _TRAILING ends in "$", but a search tries it at every position. With blank runs capped,
    its word matches are shorter than _TAIL; only a run of edge characters can be longer, and
    then the match starts right at the window's edge: the search is made again over the
    whole segment.
    """
    while True:
        stripped = segment.strip()
        start = max(0, len(stripped) - _TAIL)
        found = _TRAILING.search(stripped, start)
        if found is not None and found.start() == start and start:
            found = _TRAILING.search(stripped)
        if found is None:
            return stripped
        segment = stripped[: found.start()]


def _cell_edge(segment: str) -> bool:
    """A table row sets the number off by a tab, a pipe or a run of spaces (not ": " or "-")."""
    rest = segment.lstrip()
    space = segment[: len(segment) - len(rest)]
    return len(space) >= 2 or "\t" in space or rest.startswith("|")


def _nearest_cell(segment: str, *, last: bool) -> str:
    """In a table row, the cell next to the number that holds a name (not an address)."""
    cells = [cell for cell in _CELL_SPLIT.split(segment) if re.search(r"[^\W\d_]", cell)]
    if len(cells) < 2:
        return cells[0] if cells else segment
    clean = [cell for cell in cells if not re.search(r"\d{3}", cell)]
    pool = clean or cells
    return pool[-1] if last else pool[0]


def _after_last_break(segment: str) -> str:
    """Keep what follows the last "word: " or sentence end ("Sorry, one more: Lot C")."""
    colon = segment.rfind(": ")
    if colon >= 0:
        segment = segment[colon + 2 :]
    for match in reversed(list(_SENTENCE_END.finditer(segment))):
        if not _ABBREVIATION.search(segment[: match.start()]):
            return segment[match.end() :]
    return segment


def _finish(segment: str) -> str:
    location = normalize_location(segment)
    if not re.search(r"[^\W\d_]", location):
        return ""
    words = re.findall(r"[\w']+", location.casefold())
    return "" if all(word in _STOP for word in words) else location
