"""Text clean-up shared by every channel, so a location reads the same from a form or an email."""

from __future__ import annotations

import importlib
import re

# Spaces that mail clients and word processors slip in (nbsp, thin, ideographic ...).
_ODD_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# Invisible characters that would split or glue words without showing.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Arrows, box drawing, check marks, dingbats and emoji: bullets and decoration, never names.
SYMBOLS = "\u2190-\u21ff\u2500-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff"
# Dashes of every kind (hyphen, figure dash, en and em dash, bar, minus).
DASHES = "\\-\u2010-\u2015\u2212"
_EDGE = rf"\s,;:!?{DASHES}=|/\\*•·<>«»‹›_~{SYMBOLS}"
_TRAILING_PUNCT = re.compile(rf"[.{_EDGE}]+$")
_LEADING_PUNCT = re.compile(rf"^[{_EDGE}]+")
_QUOTES = '"“”„'


# Runs of blanks wider than this are still one separator; capping them keeps regexes linear
# (and the patterns that look back from a number within a bounded window).
WIDE = 8
_WIDE_BLANKS = re.compile(rf"\s{{{WIDE + 1},}}")


def cap_blanks(text: str) -> str:
    """Every blank run cut to WIDE characters; one with a tab keeps a tab (a cell separator)."""
    return _WIDE_BLANKS.sub(_capped, text)


def _capped(run: re.Match[str]) -> str:
    return "\t" + " " * (WIDE - 1) if "\t" in run.group() else " " * WIDE


# Case-insensitive matching costs about four times exact matching. Matching a pattern with
# re.I, or the same pattern without it on the lower-cased text, gives the same result
# whenever lower-casing keeps every position and no character of the text folds to another
# in a way lower() does not (the dotless i, the long s ...: the extra cases of re itself).
# They live in the private stdlib module re._casefix, which typeshed does not describe.
_RE_EXTRA_CASES: dict[int, tuple[int, ...]] = importlib.import_module("re._casefix")._EXTRA_CASES
_EXTRA_CASES = "".join(
    sorted(
        {
            char
            for key, others in _RE_EXTRA_CASES.items()
            for char in (chr(key), *map(chr, others))
            if not char.isascii()
        }
    )
)
_FOLDS_APART = re.compile(f"[{re.escape(_EXTRA_CASES)}]")


def lowered_exactly(text: str) -> str | None:
    """`text` lower-cased, if exact patterns on it match as re.I ones on `text`; else None."""
    lowered = text.lower()
    if len(lowered) != len(text) or _FOLDS_APART.search(lowered):
        return None
    return lowered


def clean_str(value: str) -> str:
    """Drop what cannot be stored or shown (lone surrogates, control bytes)."""
    return _CONTROLS.sub("", _SURROGATES.sub("\ufffd", value))


def normalize_text(text: str) -> str:
    """Unify line ends, odd spaces and invisible characters before reading lines."""
    text = clean_str(text.replace("\r\n", "\n").replace("\r", "\n"))
    return _INVISIBLE.sub("", _ODD_SPACES.sub(" ", text))


def normalize_location(value: str) -> str:
    """Trim, collapse inner whitespace and drop edge punctuation; keep accents and case."""
    value = " ".join(normalize_text(value).split())
    value = _TRAILING_PUNCT.sub("", _LEADING_PUNCT.sub("", value))
    return _balance_brackets(value)


def _balance_brackets(value: str) -> str:
    """Drop unmatched brackets and quotes at the ends: "(Lot D" -> "Lot D"; "(North)" stays."""
    if sum(value.count(mark) for mark in _QUOTES) % 2:
        value = value.strip(_QUOTES)
    if len(value) > 1 and value[0] in _QUOTES and value[-1] in _QUOTES:
        value = value[1:-1]
    for opening, closing in ("()", "[]", "{}"):
        if value.startswith(opening) and value.endswith(closing) and value.count(opening) == 1:
            value = value[1:-1].strip()
        if value.endswith(closing) and value.count(closing) > value.count(opening):
            value = value[:-1].rstrip()
        if value.startswith(opening) and value.count(opening) > value.count(closing):
            value = value[1:].lstrip()
        if value.endswith(opening):
            value = value[:-1].rstrip()
    return _TRAILING_PUNCT.sub("", value)
