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
import unicodedata

from parsers.normalize import DASHES, SYMBOLS, cap_blanks, normalize_location

LABEL = (
    r"(?:hot\s*spot\s*)?(?:spot\s*[-_]?\s*ids?|spotids?|spot\s*(?:number|no\.?|nr\.?|#)|ids?)"
    r"(?:\s*(?:number|no\.?|nr\.?|#))?|hot\s*spot"
    # French: "identifiant (SpotID)", "numéro de SpotID", "no SpotID", "n° de spot".
    r"|identifiants?(?:\s+(?:hot\s*)?spot\s*(?:id)?)?"
    r"|(?:num[ée]ro|no\.?|n[°º])\s*(?:de\s+|du\s+)?(?:hot\s*)?spot\s*(?:id)?"
)
# "No", "n°", "numéro": the number sign, in front of a SpotID or inside a name.
NUMBER_SIGN = r"no\.?|nr\.?|number|n[°º]\.?|num[ée]ro|num\."
_CELL_SPLIT = re.compile(r"\t|\s*\|\s*|\s{2,}")
# A lower-case article is not part of a name ("for the Riverside Deck"); "The Plaza" keeps it.
# In French, nor is a lower-case generic noun behind one ("du stationnement Berri": Berri).
_GENERIC_NOUN = r"(?:stationnement|emplacement|terrain|parc|garage|site|lot|parking|immeuble)s?"
_ARTICLE = re.compile(
    r"^(?:(?:the\s+|(?:le|la|les|du|des|au|aux|de\s+la|de|à\s+la|à)\s+"
    r"|(?:l|d|de\s+l|à\s+l)['’]\s*)"
    rf"(?:{_GENERIC_NOUN}\s+(?=[A-ZÀ-Þ0-9«“\"]))?"
    # A generic noun opening the sentence, its article capitalised: "L'emplacement Dupuis".
    rf"|(?:(?i:le|la|les|l['’]|du|des|au|aux)\s*)?{_GENERIC_NOUN}\s+(?=[A-ZÀ-Þ0-9«“\"]))(?=\S)"
)
_EDGE = rf"[\s:;,.{DASHES}=|<>«»‹›~#(\[{{*_/•·'\"“”„‘’{SYMBOLS}]"
# Label words in any case; small words only in lower case, so "Lot OR" keeps its name.
_TRAILING = re.compile(
    rf"(?:{_EDGE}+|(?:['’]s\s+)?(?<![\w])(?i:{LABEL}|{NUMBER_SIGN})"
    r"|(?<![\w])(?:is|are|was|uses?|has|have|gets?|with|please|should\s+be|will\s+be"
    r"|would\s+be|be|becomes|equals|the|our|its|their|code|of|for|at|and|or|as|using|to|it's"
    r"|it\s+is|which|that|->|=>"
    # French: "le SpotID est", "c'est le", "a le numéro", "correspond au".
    r"|est|sont|c['’]est|sera|serait|devient|correspond\s+(?:à|au)|a|ont|avec|pour|le|la|les"
    r"|l['’]|du|de|des|d['’]|au|aux|à|et|ou|soit|notre|nos|son|sa|ses|leur|leurs|celui-ci"
    r"|utilise|porte|reçoit|obtient|devrait\s+être|sera))$"
)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|bonjour|hallo|hola|ciao|hej"
    r"|guten\s+tag|bonsoir|salut|allo|allô|cher|chère)\b[^,:;]*[,:;]\s*",
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
    rf"|(?:the\s+)?(?:{LABEL}|spot|number|code)s?\s+(?:for|of|at)"
    # French: "voici", "pour", "et pour", "quant au", "le SpotID de", "celui de".
    r"|voici|voilà|voila|pour|et|aussi|également|ainsi\s+que|puis|ensuite|enfin|ou|svp"
    r"|s['’]il\s+vous\s+pla[iî]t|merci\s+d['’]ajouter|veuillez\s+ajouter|ajouter|ajoutez"
    r"|(?:nous|on)\s+(?:aimerions|voudrions|souhaitons)\s+ajouter|nous\s+avons|on\s+a"
    r"|il\s+y\s+a|c['’]est|celui\s+d[eu]|celle\s+d[eu]|ceux\s+d[eu]|quant\s+(?:à|au|aux)"
    r"|concernant|pour\s+ce\s+qui\s+est\s+d[eu]"
    rf"|(?:(?:le|la|les|l['’])\s*)?(?:{LABEL}|{NUMBER_SIGN}|code)s?\s+(?:de\s+la|de\s+l['’]"
    r"|du|des|de|d['’]|pour|à|au))(?![\w'’]))",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?]\s+(?=[A-ZÀ-Þ])")
_ABBREVIATION = re.compile(
    r"(?:^|[\s.])(?:st|dr|mt|ft|no|nr|mr|mrs|ms|ave|jr|sr|co|ste|boul|av|ch|inc|cie|[a-z])$",
    re.I,
)
_AFTER_CUT = re.compile(
    r",\s|;|\s(?:and|but|please|thanks|thank\s+you|which|that|et|mais|svp|merci|qui|que)\s",
    re.I,
)
_STOP = frozenset(
    "is are was the and or but for to of in on at with by it this that these those one ones "
    "here there below above following spotid spotids spot id ids number numbers no nr code "
    "hotspot our my your their its we i you new old also please thanks thank too as well then "
    "so ok yes sorry correction instead not now same other another location locations site "
    "sites name "
    "le la les l' du de des d' et ou est sont pour au aux à a voici voilà c'est ce cet cette "
    "ces numéro numéros n° nº emplacement emplacements stationnement stationnements nom notre "
    "nos votre vos leur leurs aussi merci svp oui non même autre nouveau nouvelle identifiant "
    "suivant suivants suivante suivantes".split()
)
_SENTENCE_WORDS = frozenset(
    "i me we us you my your it they them is are was were be been being have has had need needs "
    "want wants would will can could should shall may might must please send sent call contact "
    "attached see let know thanks thank do does did get got make made take took go went come "
    "came started opened about approximately around than more less per each every only just "
    "still already which what when where who how why if because these those up set following "
    "below above there too also sheet spreadsheet file list attachment attached email mail "
    "message document "
    "je j' nous vous il elle ils elles on c'est n'est sont était être été avons avez ont ai "
    "veuillez merci svp pouvez pourriez pourrais pouvons voudrais voudrions aimerions aimerais "
    "souhaitons faut dois devons doit joint ci-joint jointe pièce fichier tableau liste "
    "courriel message voir trouverez trouver envoyer envoyé envoie suivant suivants suivantes "
    "ci-dessous ci-dessus dessous dessus déjà encore seulement environ chaque tous toutes qui "
    "que quoi quand comment pourquoi parce car mais donc aussi également ajouter ajoutez "
    "utilisons utilise".split()
)
# A name does not start with a preposition: "is in the sheet" is a sentence, not a place.
_PREPOSITION_START = re.compile(
    r"^(?:in|on|from|to|with|by|into|within|dans|sur|avec|sans|sous|chez|entre|vers|par|en)\s"
)
# Punctuation a name written in a sentence does not hold: what is left of the sentence around
# it ("— n°", "« », ":") means the cut went wrong, so a person decides.
_LEFTOVER = re.compile(r"[:;!?«»“”\"=]|\s[—–]\s|(?<![\w])n[°º]|,\s+[a-zà-ÿ]")
# Quote marks around a name: « Complexe Desjardins », “Lot A”, "Lot A".
_OPENING_QUOTES = "«“"
_CLOSING_QUOTES = "»”"
_MAX_WORDS = 8
# Words that say what kind of place it is, in English or French: not what tells it apart.
_GENERIC_WORDS = frozenset(
    "parking lot lots garage car park deck site location facility structure stationnement "
    "stationnements terrain emplacement parc parcs aire the le la les l du de des d of".split()
)
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
        segment = _after_last_break(_inside_quotes(_strip_end(segment)))
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
    words = re.findall(r"[\w'’]+", location.casefold())
    return (
        _CUT in location
        or bool(_LEFTOVER.search(location))
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


def _inside_quotes(segment: str) -> str:
    """What follows a quote mark left open at the end: the name it quoted ("« Berri »")."""
    opening = max(segment.rfind(mark) for mark in _OPENING_QUOTES)
    if opening >= 0 and not any(mark in segment[opening:] for mark in _CLOSING_QUOTES):
        return segment[opening + 1 :]
    if segment.count('"') % 2:
        return segment[segment.rfind('"') + 1 :]
    return segment


def same_place(first: str, second: str) -> bool:
    """The same place named twice, in two languages: "Stationnement Wellington" and
    "Wellington Parking" share their words once the generic ones are set aside."""
    one, other = _core_words(first), _core_words(second)
    return bool(one) and one == other


def place_key(location: str) -> object:
    """What identifies a place across languages: its distinctive words, else its name."""
    return _core_words(location) or location.casefold()


def _core_words(location: str) -> frozenset[str]:
    plain = unicodedata.normalize("NFKD", location.casefold())
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    return frozenset(re.findall(r"[^\W_]+", plain)) - _GENERIC_WORDS


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
