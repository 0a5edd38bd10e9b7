"""Tell the sender's newest text from quoted history, forwarded messages and signatures.

A small splitter instead of mail-parser-reply: that library treats "- Lot A" lines as a
signature unless told otherwise, ends a signature only at the end of the body, and cannot
tell a forward (read it) from a reply's history (ignore it), which is what matters here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.normalize import lowered_exactly


class _AnyLine:
    """A pattern for one line, tried on all the lines of a text at once.

    "^" and "$" work at line ends, its blanks stay within a line (so it never runs across
    blank lines, nor slows on them), and it runs exactly on the lower-cased text when that
    matches as re.I does (`lowered_exactly`).
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        assert "[\\s" not in pattern.pattern and "\\s]" not in pattern.pattern
        source = pattern.pattern.replace(r"\s", r"[^\S\n]")
        self._exact = re.compile(source, (pattern.flags & ~re.I) | re.M)
        self._folded = re.compile(source, pattern.flags | re.M)

    def found(self, text: str, lowered: str | None) -> bool:
        if lowered is not None:
            return self._exact.search(lowered) is not None
        return self._folded.search(text) is not None


_FORWARD_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded\s+message|weitergeleitete\s+nachricht|message\s+transf[ée]r[ée]"
    r"|mensaje\s+reenviado|doorgestuurd\s+bericht|vidarebefordrat\s+meddelande"
    r"|messaggio\s+inoltrato)\s*-{2,}"
    r"|begin\s+forwarded\s+message\s*:|anfang\s+der\s+weitergeleiteten\s+nachricht\s*:"
    r"|d[ée]but\s+du\s+message\s+r[ée]exp[ée]di[ée]\s*:)\s*$",
    re.I,
)
_ORIGINAL_MARKER = re.compile(
    r"^\s*-{2,}\s*(?:original\s+message|urspr[üu]ngliche\s+nachricht|message\s+d'origine"
    r"|mensaje\s+original|oorspronkelijk\s+bericht|messaggio\s+originale)\s*-{2,}\s*$",
    re.I,
)
_RULE = re.compile(r"^\s*_{5,}\s*$")
_FROM = re.compile(r"^\s*\*?(?:from|von|de|da|van|från|fra|od)\s*:\*?\s*\S", re.I)
_SENT = re.compile(
    r"^\s*\*?(?:sent|date|gesendet|datum|envoy[ée]|enviado|fecha|inviato|data|verzonden"
    r"|skickat|to|an|à|para|a|subject|betreff|objet|asunto|oggetto|onderwerp)\s*:",
    re.I,
)
_WROTE_START = re.compile(r"^\s*(?:on|am|le|el|il|op|den|w\s+dniu)\s", re.I)
_WROTE_END = re.compile(
    r"(?:wrote|schrieb|a\s+[ée]crit|escribi[óo]|ha\s+scritto|schreef|skrev|napisa[łl]"
    r"|написал)(?:\s+on\s+\d[\d/.\-]+\s+[\d:.]+(?:\s*[ap]m)?)?\s*:?\s*$",
    re.I,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:\[?(?:fwd?|fw|wg|tr|rv|enc|vs|vb|doorst)\s*:)", re.I)
_SIGNATURE_RULE = re.compile(r"^(?:--|—|__)\s?$")
_SIGN_OFF = re.compile(
    r"^\s*(?:thanks(?:\s+(?:again|so\s+much|a\s+lot))?|thank\s+you(?:\s+(?:again|so\s+much))?"
    r"|many\s+thanks|thx|cheers|best(?:\s+(?:regards|wishes))?|(?:kind|warm|warmest)\s+regards"
    r"|regards|sincerely|yours(?:\s+(?:truly|sincerely))?|br|merci(?:\s+beaucoup)?|cordialement"
    r"|bien\s+cordialement|bien\s+à\s+vous|salutations(?:\s+distinguées)?"
    r"|(?:meilleures|sinc[èe]res)\s+salutations|merci\s+(?:à\s+l['’]avance|d['’]avance)"
    r"|bonne\s+(?:journée|fin\s+de\s+journée|soirée)|au\s+plaisir|amicalement"
    r"|danke|vielen\s+dank|mit\s+freundlichen\s+gr[üu](?:ß|ss)en|viele\s+gr[üu](?:ß|ss)e|gracias"
    r"|saludos|grazie|cordiali\s+saluti|met\s+vriendelijke\s+groet|groeten|hälsningar"
    r"|med\s+vänlig\s+hälsning|mvh|vh)\s*[,.!]*(?:\s+[^\W\d_][\w.'-]*){0,3}\s*$"
    r"|^\s*(?:sent\s+from\s+my\s|get\s+outlook\s+for\s|von\s+meinem\s|envoyé\s+de\s+mon\s)",
    re.I,
)
_SIGNATURES = (_AnyLine(_SIGNATURE_RULE), _AnyLine(_SIGN_OFF))
_INLINE_HEADERS = re.compile(
    r"^\s*\*?from\s*:.{1,200}\b(?:sent|date)\s*:.{1,200}\b(?:to|subject)\s*:", re.I
)
_POSTSCRIPT = re.compile(r"^\s*p\.?\s?s\.?(?:\s|:)", re.I)
_HEADER_LINE = re.compile(r"^\s*\*?[\w-]{2,20}\s*:\*?(?:\s|$)")
_QUOTE_LEVEL = re.compile(r"^\s*> ?")
# What every line that can start history or a forward begins with (or, for "... wrote:",
# ends with): a quick first look, so that most lines cost one search instead of nine.
_MAYBE_HISTORY = re.compile(
    r"^\s*(?:>\s?)?\s*(?:-{2}|_{5}|\*|(?:from|von|de|da|van|från|fra|od|begin|anfang"
    r"|d[ée]but|on|am|le|el|il|op|den|w)(?!\w))|" + _WROTE_END.pattern,
    re.I,
)
# The same, and quoted lines, over a whole text at once: most texts have none of them, and
# are returned as they are without a look at each line (so are texts without signatures).
_HISTORIES = (_AnyLine(_MAYBE_HISTORY), _AnyLine(re.compile(r"^\s*>")))
_HEADER_LOOKAHEAD = 6
_WROTE_LIMIT = 400


@dataclass(frozen=True)
class Parts:
    """The sender's own words, and the text of a message they forwarded, if any."""

    new: str
    forwarded: str | None


def is_forward_subject(subject: str | None) -> bool:
    return bool(subject and _FORWARD_SUBJECT.match(subject))


def split(text: str, *, forward: bool = False) -> Parts:
    """Cut `text` where the history starts; `forward` says an unmarked history is a forward."""
    if not _any_line(_HISTORIES, text):
        return Parts(text, None)
    lines = text.split("\n")
    filled = _next_filled(lines)
    new: list[str] = []
    replying = False  # after "On ... wrote:", quoted lines are history, forwards included
    index = 0
    while index < len(lines):
        line = lines[index]
        quoted = line.lstrip().startswith(">")
        if not _MAYBE_HISTORY.search(line):
            if not quoted:
                new.append(line)
            index += 1
            continue
        if _FORWARD_MARKER.match(_QUOTE_LEVEL.sub("", line) if quoted else line) and not (
            quoted and replying
        ):
            return Parts("\n".join(new), _without_headers(lines[index + 1 :]))
        if _ORIGINAL_MARKER.match(line) or _outlook_block(lines, index):
            rest = lines[index + 1 :] if not _FROM.match(line) else lines[index:]
            return Parts("\n".join(new), _without_headers(rest) if forward else None)
        wrote = _wrote_header(lines, index, filled)
        if wrote:
            following = _line(lines, filled[min(index + wrote, len(lines))])
            if not following.lstrip().startswith(">"):
                return Parts("\n".join(new), None)
            replying = True
            index += wrote
            continue
        if not quoted:
            new.append(line)
        index += 1
    return Parts("\n".join(new), None)


def cut_signature(text: str) -> str:
    """The text above a "-- " rule or a sign-off line ("Thanks,", "Best regards, Jane").

    A "P.S." paragraph below the signature is the sender's text again and is kept.
    """
    if not _any_line(_SIGNATURES, text):
        return text
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _SIGNATURE_RULE.match(line) or _SIGN_OFF.match(line):
            kept = lines[:index]
            for start in range(index + 1, len(lines)):
                if _POSTSCRIPT.match(lines[start]):
                    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), None)
                    kept += lines[start:end]
                    break
            return "\n".join(kept)
    return text


def _any_line(patterns: tuple[_AnyLine, ...], text: str) -> bool:
    lowered = lowered_exactly(text)
    return any(pattern.found(text, lowered) for pattern in patterns)


def _outlook_block(lines: list[str], index: int) -> bool:
    """A "____" rule or a "From:" line followed closely by "Sent:/Date:/To:" lines."""
    if _INLINE_HEADERS.match(lines[index]):
        return True
    start = index + 1 if _RULE.match(lines[index]) else index
    while _RULE.match(lines[index]) and start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or not _FROM.match(lines[start]):
        return False
    window = lines[start + 1 : start + 1 + _HEADER_LOOKAHEAD]
    return any(_SENT.match(line) for line in window)


def _next_filled(lines: list[str]) -> list[int]:
    """For each line, the index of the first non-blank line at or after it (len(lines): none)."""
    filled = [len(lines)] * (len(lines) + 1)
    for index in range(len(lines) - 1, -1, -1):
        filled[index] = index if lines[index].strip() else filled[index + 1]
    return filled


def _line(lines: list[str], index: int) -> str:
    return lines[index] if index < len(lines) else ""


def _wrote_header(lines: list[str], index: int, filled: list[int]) -> int:
    """How many lines an "On <date>, <name> wrote:" header spans here (0 if none)."""
    line = lines[index]
    if not _WROTE_START.match(line):
        # "Dana Lee wrote:" (Thunderbird) or "Dana/ACME wrote on 06/02/2025 10:00 AM:" (Notes),
        # but not "As I wrote:" introducing the sender's own list.
        if len(line) > _WROTE_LIMIT or not _WROTE_END.search(line):
            return 0
        following = _line(lines, filled[index + 1])
        return 1 if re.search(r"[@<\d]", line) or following.lstrip().startswith(">") else 0
    for span in range(1, 4):
        joined = " ".join(lines[index : index + span])
        if len(joined) <= _WROTE_LIMIT and _WROTE_END.search(joined):
            return span
    return 0


def _without_headers(lines: list[str]) -> str:
    """A forwarded message's text without its From:/Date:/Subject:/To: block."""
    if all(line.lstrip().startswith(">") for line in lines if line.strip()):
        lines = [_QUOTE_LEVEL.sub("", line, count=1) for line in lines]  # Apple Mail quotes it
    index = _skip_blank(lines, 0)
    while index < len(lines) and _HEADER_LINE.match(lines[index]):
        index += 1
    return "\n".join(lines[_skip_blank(lines, index) :])


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index
