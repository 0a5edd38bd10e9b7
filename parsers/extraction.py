"""What a piece of text yielded: certain pairs, and the lines a human should look at."""

from __future__ import annotations

from dataclasses import dataclass, field

from parsers.locations import place_key, same_place
from parsers.models import SpotEntry

_QUOTE_LIMIT = 160


@dataclass
class Extraction:
    """Pairs in message order plus warnings; merging keeps order and drops repeats."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # What is already in the lists, so a repeat is dropped without scanning them.
    _seen: set[object] = field(default_factory=set, repr=False, compare=False)
    _by_spot: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._seen.update(self.pairs, self.warnings)
        for location, spot_id in self.pairs:
            self._by_spot.setdefault(spot_id, []).append(location)

    def add_pair(self, location: str, spot_id: str) -> None:
        """Add a pair once; the same SpotID for the same place named in the other language
        (a bilingual email: "Stationnement Wellington", then "Wellington Parking") is a repeat,
        and the first name written is kept."""
        if (location, spot_id) in self._seen:
            return
        self._seen.add((location, spot_id))
        named = self._by_spot.setdefault(spot_id, [])
        if any(same_place(location, other) for other in named):
            return
        named.append(location)
        self.pairs.append((location, spot_id))

    def warn(self, message: str) -> None:
        if message not in self._seen:
            self._seen.add(message)
            self.warnings.append(message)

    def extend(self, other: Extraction) -> None:
        for pair in other.pairs:
            self.add_pair(*pair)
        for message in other.warnings:
            self.warn(message)

    @property
    def empty(self) -> bool:
        return not self.pairs and not self.warnings

    def entries(self) -> list[SpotEntry]:
        return [SpotEntry(location=loc, spot_id=spot) for loc, spot in self.pairs]

    def conflict_warnings(self) -> list[str]:
        """One SpotID per location and one location per SpotID; anything else needs a human.

        A place named in both languages ("Stationnement Berri", "Berri Parking") is one
        location: two SpotIDs for it are a conflict too."""
        found: list[str] = []
        by_location: dict[object, list[str]] = {}
        by_spot: dict[str, list[str]] = {}
        for location, spot in self.pairs:
            by_location.setdefault(place_key(location), []).append(spot)
            by_spot.setdefault(spot, []).append(location)
        for location, spot in self.pairs:
            spots = by_location.pop(place_key(location), [])
            if len(spots) > 1:
                found.append(f"location {location!r} is given several SpotIDs: {', '.join(spots)}")
            locations = by_spot.pop(spot, [])
            if len(locations) > 1:
                found.append(
                    f"SpotID {spot} is given for several locations: {', '.join(locations)}"
                )
        return found


def quote(line: str) -> str:
    """A line as it appears in a warning: trimmed, shortened, in quotes."""
    line = " ".join(line.split())
    if len(line) > _QUOTE_LIMIT:
        line = line[: _QUOTE_LIMIT - 1] + "…"
    return f'"{line}"'
