"""The form's checks, as the customer types and on submit, worded so they say how to fix it.

The same rules as the flow's validation step (which runs again after submit, so nothing here
is trusted): a SpotID is 3 to 8 digits, given once, for one of the company's locations, and
HotSpot knows it and has it active. HotSpot is asked only about well-formed SpotIDs, and its
answers are kept for a minute so typing never floods it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotspot import HotSpotAPIError, HotSpotClient, HotSpotUnavailable, SpotNotFound
from settings import settings
from store.crud import normalise_location
from tasks.validate import SPOT_ID_FORMAT

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
CACHE_SIZE = 10_000


@dataclass
class Row:
    """One line of the form: a location, its SpotID, and what the checks said about it."""

    location: str = ""
    spot_id: str = ""
    error: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class SpotVerdict:
    """HotSpot's word on one SpotID: a problem to fix, or the spot's name; or no answer."""

    problem: str | None = None
    name: str | None = None
    unreachable: bool = False


def format_problem(spot_id: str) -> str | None:
    """What is wrong with how the SpotID is written, if anything."""
    if SPOT_ID_FORMAT.fullmatch(spot_id):
        return None
    if not spot_id.isdigit():
        return f"'{spot_id}' is not a SpotID: use digits only (3 to 8 of them, like 14283)."
    return f"A SpotID has 3 to 8 digits; '{spot_id}' has {len(spot_id)}. Check the number."


def local_problems(rows: Sequence[Row], *, company: str, locations: Sequence[str]) -> None:
    """Set each row's error for what needs no HotSpot: format, locations, duplicates."""
    known = {normalise_location(name): name for name in locations}
    filled = [row for row in rows if row.spot_id]
    spot_counts = Counter(row.spot_id for row in filled)
    location_counts = Counter(normalise_location(row.location) for row in filled)
    for row in filled:
        key = normalise_location(row.location)
        if not key:
            row.error = f"Choose the location SpotID {row.spot_id} is for."
        elif key not in known:
            row.error = (
                f"{company} has no location named '{row.location}'. "
                f"Choose one of: {', '.join(locations)}."
            )
        elif location_counts[key] > 1:
            row.error = (
                f"{known[key]} is listed more than once: give one SpotID per location "
                "and clear the other row."
            )
        elif problem := format_problem(row.spot_id):
            row.error = problem
        elif spot_counts[row.spot_id] > 1:
            others = [r.location for r in filled if r.spot_id == row.spot_id and r is not row]
            row.error = (
                f"SpotID {row.spot_id} is also given for {', '.join(others)}: each location "
                "has its own SpotID."
            )


class SpotChecker:
    """Asks HotSpot whether SpotIDs exist and are active, remembering answers briefly."""

    def __init__(self, *, ttl: float = CACHE_SECONDS) -> None:
        self._ttl = ttl
        self._cache: dict[str, tuple[float, SpotVerdict]] = {}

    async def verdicts(self, spot_ids: Iterable[str]) -> dict[str, SpotVerdict]:
        """HotSpot's verdict on each well-formed SpotID (malformed ones are never sent)."""
        wanted = {s for s in spot_ids if format_problem(s) is None}
        now = time.monotonic()
        found = {s: v for s, (t, v) in self._cache.items() if s in wanted and t > now}
        missing = sorted(wanted - found.keys())
        if missing:
            async with self._client() as hotspot:
                answers = await asyncio.gather(*(self._ask(hotspot, s) for s in missing))
            if len(self._cache) > CACHE_SIZE:  # forget what expired, so it never grows unbounded
                self._cache = {s: entry for s, entry in self._cache.items() if entry[0] > now}
            for spot_id, verdict in zip(missing, answers, strict=True):
                found[spot_id] = verdict
                if not verdict.unreachable and len(self._cache) < CACHE_SIZE:
                    self._cache[spot_id] = (now + self._ttl, verdict)
        return found

    @staticmethod
    def _client() -> HotSpotClient:
        # A person waits for this answer: fewer, shorter attempts than the flow's client.
        return HotSpotClient(
            settings.hotspot_api_url,
            settings.hotspot_partner_key.get_secret_value(),
            timeout=min(settings.hotspot_timeout_seconds, 5.0),
            max_attempts=2,
            backoff=settings.hotspot_backoff_seconds,
            backoff_max=1.0,
            rate_limit=settings.hotspot_rate_limit,
        )

    @staticmethod
    async def _ask(hotspot: HotSpotClient, spot_id: str) -> SpotVerdict:
        try:
            spot = await hotspot.get_spot(spot_id)
        except SpotNotFound:
            return SpotVerdict(
                problem=f"HotSpot has no spot with SpotID {spot_id}. Check the number with "
                "your parking operator."
            )
        except (HotSpotUnavailable, HotSpotAPIError) as exc:
            logger.warning("HotSpot did not answer about SpotID %s: %s", spot_id, exc)
            return SpotVerdict(unreachable=True)
        if not spot.active:
            return SpotVerdict(
                problem=f"SpotID {spot_id} ({spot.name}) is inactive in HotSpot: ask your "
                "parking operator to activate it, then submit again.",
                name=spot.name,
            )
        return SpotVerdict(name=spot.name)


async def hotspot_problems(rows: Sequence[Row], *, checker: SpotChecker) -> None:
    """Set HotSpot's word on each filled row that has no error yet."""
    verdicts = await checker.verdicts(row.spot_id for row in rows if row.spot_id and not row.error)
    for row in rows:
        verdict = verdicts.get(row.spot_id)
        if row.error or verdict is None:
            continue
        if verdict.problem:
            row.error = verdict.problem
        elif verdict.unreachable:
            row.note = "HotSpot could not be asked just now; it is checked again after you submit."
        else:
            row.note = f"HotSpot knows this spot: {verdict.name}."


async def check_rows(
    rows: Sequence[Row], *, company: str, locations: Sequence[str], checker: SpotChecker
) -> bool:
    """Check every filled row; True when the form may be submitted as it is."""
    local_problems(rows, company=company, locations=locations)
    await hotspot_problems(rows, checker=checker)
    return not any(row.error for row in rows)
