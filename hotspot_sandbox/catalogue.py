"""The sandbox's spot catalogue: which spots exist, who operates them, which tokens they take."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from hotspot.models import Spot


class OperatorEntry(BaseModel):
    """A parking operator and the company tokens it accepts on permits at its spots."""

    model_config = ConfigDict(extra="forbid")

    name: str
    company_tokens: list[str] = []


class SpotRange(BaseModel):
    """Consecutive numeric SpotIDs sharing one operator, so benchmarks need not list thousands."""

    model_config = ConfigDict(extra="forbid")

    first: int
    count: int
    name_prefix: str
    operator: str
    timezone: str = "America/Toronto"
    active: bool = True
    requires_company_token: bool = False

    def spot(self, spot_id: str) -> Spot | None:
        """The spot for that SpotID if the range holds it, matched exactly (no leading zeros)."""
        if not spot_id.isdigit() or str(int(spot_id)) != spot_id:
            return None
        if not self.first <= int(spot_id) < self.first + self.count:
            return None
        return Spot(
            spot_id=spot_id,
            name=f"{self.name_prefix}{spot_id}",
            operator=self.operator,
            timezone=self.timezone,
            active=self.active,
            requires_company_token=self.requires_company_token,
        )

    def spots(self) -> list[Spot]:
        """Every spot of the range, in SpotID order."""
        ids = (str(number) for number in range(self.first, self.first + self.count))
        return [spot for spot_id in ids if (spot := self.spot(spot_id)) is not None]


class Catalogue(BaseModel):
    """The whole catalogue file (`hotspot_sandbox/spots.json` by default)."""

    model_config = ConfigDict(extra="forbid")

    operators: list[OperatorEntry]
    spots: list[Spot]
    spot_ranges: list[SpotRange] = []

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read and validate a catalogue file."""
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def spot(self, spot_id: str) -> Spot | None:
        """The spot with exactly that SpotID, if any."""
        for spot in self.spots:
            if spot.spot_id == spot_id:
                return spot
        for spot_range in self.spot_ranges:
            if (ranged := spot_range.spot(spot_id)) is not None:
                return ranged
        return None

    def spots_of(self, operator: str) -> list[Spot]:
        """Every spot of one operator, listed ones first, then its ranges."""
        listed = [spot for spot in self.spots if spot.operator == operator]
        ranged = [s for r in self.spot_ranges if r.operator == operator for s in r.spots()]
        return listed + ranged

    def accepts(self, operator: str, token: str) -> bool:
        """Whether the operator accepts that company token."""
        return any(op.name == operator and token in op.company_tokens for op in self.operators)
