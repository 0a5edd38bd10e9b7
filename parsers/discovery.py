"""Finding SpotIDs: pure functions, no I/O.

`asks_to_find_spot_ids` tells an email that says its sender does not know the SpotIDs ("we'd
like HotSpot, but we don't know our SpotIDs", « nous ne connaissons pas nos SpotID ») and
reads the locations it lists; `locations_without_spot_ids` reads those an email with SpotIDs
names without one ("Lot D: ?"). `propose` matches Offstreet locations to HotSpot spots by name:
exact, then normalised, then fuzzy above a threshold; an ambiguous or missing match is never
guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

MAX_CHARS = 4000
MAX_LOCATIONS = 50
FUZZY_THRESHOLD = 0.8
FUZZY_MARGIN = 0.08

_SPOT = r"spot ?ids?"
_ASKS = [
    rf"\b(?:do not|don't|dont|didn't|did not) (?:know|have) (?:our|the|any|their) {_SPOT}",
    rf"\b(?:not sure|unsure) (?:what|where|which|of|about) (?:our|the|to find (?:our|the)) "
    rf"{_SPOT}",
    rf"\bwhere (?:do|can|would) (?:i|we) find (?:our|the) {_SPOT}",
    rf"\b(?:can|could) you (?:find|look up|get) (?:our|the) {_SPOT}",
    rf"\bne (?:connaissons|connait|connais|savons|sait|sais) pas (?:nos|les|quels sont nos) "
    rf"{_SPOT}",
    rf"\bou trouver (?:nos|les) {_SPOT}",
    rf"\bpouvez-vous trouver (?:nos|les) {_SPOT}",
]
_ASKS_RE = [re.compile(pattern) for pattern in _ASKS]
# A listed location: "- Lot A", "* Garage C", "1. Lot D" (a name, no sentence).
_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+(.{1,60}?)\s*$")
_SENTENCE = re.compile(r"[?!:;]|\b(?:we|our|the|please|thanks|nous|nos|merci)\b", re.I)

# A location named with no SpotID: "Lot D: ?", "Garage C - unknown", "Lot E: we don't know
# it", « Berri : inconnu ».
_UNKNOWN_ID = re.compile(
    r"^\s*(?:[-*\u2022]\s+)?(?P<name>[^:\-\u2013\u2014\d][^:\u2013\u2014]{0,59}?)\s*"
    r"(?::|\s[-\u2013\u2014])\s*"
    r"(?:\?+|unknown|not sure|unsure|tbd|n/?a|(?:we )?(?:do not|don't|dont) know(?: (?:it|its "
    r"spot ?id|the spot ?id|yet))?|inconnu|(?:je ne|nous ne|on ne) (?:sais|savons|sait) pas|"
    r"a confirmer|\u00e0 confirmer)[.!]?\s*$",
    re.I,
)
# Labels that read like "Name: ?" but name no location.
_LABELS = frozenset(
    "note notes nb ps subject from to cc date re fw fwd objet de a remarque question questions "
    "status statut spotid spot id ids spotids token contact phone telephone tel".split()
)

GENERIC = {"parking", "stationnement", "the", "le", "la", "les", "of", "de", "du", "des"}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text.replace("\u2019", "'"))


def asks_to_find_spot_ids(subject: str | None, text: str) -> list[str] | None:
    """The locations listed (maybe none) when the email says its sender does not know the
    SpotIDs; None when it does not say so."""
    text = text[:MAX_CHARS]
    folded = _fold(f"{subject or ''}\n{text}")
    if not any(pattern.search(folded) for pattern in _ASKS_RE):
        return None
    locations: list[str] = []
    for line in text.splitlines():
        match = _ITEM.match(line)
        if match and not _SENTENCE.search(match.group(1)) and not match.group(1).isdigit():
            name = match.group(1).strip()
            if name not in locations:
                locations.append(name)
    return locations[:MAX_LOCATIONS]


def locations_without_spot_ids(subject: str | None, text: str, *, named: list[str]) -> list[str]:
    """The locations an email with SpotIDs also names without one ("Lot D: ?", or listed
    after "we don't know the SpotIDs of"), other than the `named` ones that have a SpotID;
    so that none is dropped: Offstreet proposes their SpotIDs."""
    text = text[:MAX_CHARS]
    found = [
        name
        for line in text.splitlines()
        if (m := _UNKNOWN_ID.match(line))
        and not _SENTENCE.search(name := m.group("name").strip())
        and not set(normalise(name).split()) <= _LABELS
    ]
    found += asks_to_find_spot_ids(subject, text) or []
    have = {normalise(name) for name in named}
    missing: list[str] = []
    for name in found:
        if normalise(name) not in have and name not in missing:
            missing.append(name)
    return missing[:MAX_LOCATIONS]


# --- proposing a SpotID for each location -----------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A HotSpot spot of one of the company's operators."""

    spot_id: str
    name: str


@dataclass(frozen=True)
class Proposal:
    """The SpotID proposed for one location, and how it was found (None: no guess)."""

    location: str
    spot_id: str | None
    spot_name: str | None
    how: Literal["exact", "normalised", "fuzzy", "ambiguous", "missing"]


def normalise(name: str) -> str:
    """Lower case, no accents or punctuation, `&` as `and`, generic words dropped."""
    words = re.sub(r"[^a-z0-9]+", " ", _fold(name).replace("&", " and ")).split()
    kept = [word for word in words if word not in GENERIC]
    return " ".join(kept or words)


def _match(location: str, spots: list[Candidate]) -> Proposal:
    exact = [spot for spot in spots if spot.name == location]
    if len(exact) == 1:
        return Proposal(location, exact[0].spot_id, exact[0].name, "exact")
    wanted = normalise(location)
    same = [spot for spot in spots if normalise(spot.name) == wanted]
    if len(exact) > 1 or len(same) > 1:
        return Proposal(location, None, None, "ambiguous")
    if len(same) == 1:
        return Proposal(location, same[0].spot_id, same[0].name, "normalised")
    scored = sorted(
        ((SequenceMatcher(None, wanted, normalise(spot.name)).ratio(), spot) for spot in spots),
        key=lambda pair: pair[0],
        reverse=True,
    )
    if not scored or scored[0][0] < FUZZY_THRESHOLD:
        return Proposal(location, None, None, "missing")
    if len(scored) > 1 and scored[0][0] - scored[1][0] < FUZZY_MARGIN:
        return Proposal(location, None, None, "ambiguous")
    best = scored[0][1]
    return Proposal(location, best.spot_id, best.name, "fuzzy")


def propose(locations: list[str], spots: list[Candidate]) -> list[Proposal]:
    """One proposal per location; a spot that two locations would take is no guess for either
    (unless one matched it exactly)."""
    proposals = [_match(location, spots) for location in locations]
    taken: dict[str, list[int]] = {}
    for index, proposal in enumerate(proposals):
        if proposal.spot_id is not None:
            taken.setdefault(proposal.spot_id, []).append(index)
    for indexes in taken.values():
        if len(indexes) < 2:
            continue
        exact = [i for i in indexes if proposals[i].how == "exact"]
        for i in indexes:
            if i not in exact[:1]:
                proposals[i] = Proposal(proposals[i].location, None, None, "ambiguous")
    return proposals
