"""The form's checks, as the customer types and on submit, worded so they say how to fix it.

The same rules as the flow's validation step (which runs again after submit, so nothing here
is trusted): a SpotID is 3 to 8 digits, given once, for one of the company's locations, and
HotSpot knows it and has it active. HotSpot is asked only about well-formed SpotIDs, through
the pipeline's one client factory (so the partner key's rate limit and Retry-After hold), and
its answers are kept for a minute so typing never floods it.

A customer learns nothing about spots of operators other than their company's (not their name,
not whether they are active): such a SpotID is accepted for Offstreet to confirm, as the
pipeline holds it for ops. And the checks as you type (`/check`) may cost
HotSpot only a small budget of lookups per link, so a link is no HotSpot proxy.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotspot import HotSpotAPIError, HotSpotClient, HotSpotUnavailable, Spot, SpotNotFound
from store.crud import location_key
from tasks.policy import hotspot_client
from tasks.validate import SPOT_ID_FORMAT
from trust.ownership import operates

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
CACHE_SIZE = 10_000
# HotSpot lookups one link may cause through /check: a burst (a form of many locations typed
# in a row), then one every few seconds.
LINK_BURST = 20
LINK_REFILL_SECONDS = 3.0


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
    # Not one of the company's operators' spots: nothing shown, Offstreet confirms it.
    unconfirmed: bool = False


def format_problem(spot_id: str) -> str | None:
    """What is wrong with how the SpotID is written, if anything."""
    if SPOT_ID_FORMAT.fullmatch(spot_id):
        return None
    if not spot_id.isdigit():
        return f"'{spot_id}' is not a SpotID: use digits only (3 to 8 of them, like 14283)."
    return f"A SpotID has 3 to 8 digits; '{spot_id}' has {len(spot_id)}. Check the number."


def local_problems(rows: Sequence[Row], *, company: str, locations: Sequence[str]) -> None:
    """Set each row's error for what needs no HotSpot: format, locations, duplicates."""
    known = {location_key(name): name for name in locations}
    filled = [row for row in rows if row.spot_id]
    spot_counts = Counter(row.spot_id for row in filled)
    location_counts = Counter(location_key(row.location) for row in filled)
    for row in filled:
        key = location_key(row.location)
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


class TooManyChecks(Exception):
    """The link has used up its HotSpot lookups for now."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many checks; try again in {math.ceil(retry_after)} s")
        self.retry_after = math.ceil(retry_after)


class LinkBudget:
    """The HotSpot lookups each link may still cause: `burst`, refilled one per `refill` s."""

    def __init__(self, *, burst: int = LINK_BURST, refill: float = LINK_REFILL_SECONDS) -> None:
        self._burst, self._refill = burst, refill
        self._left: dict[str, tuple[float, float]] = {}  # link -> (lookups left, when)

    def spend(self, link: str, lookups: int) -> None:
        """Take `lookups` from the link's budget, or raise `TooManyChecks` taking none."""
        now = time.monotonic()
        left, since = self._left.get(link, (self._burst, now))
        left = min(self._burst, left + (now - since) / self._refill)
        if left < lookups:
            raise TooManyChecks((lookups - left) * self._refill)
        if len(self._left) >= CACHE_SIZE:  # links whose budget is whole again need no entry
            full_after = self._burst * self._refill
            self._left = {k: v for k, v in self._left.items() if now - v[1] < full_after}
        self._left[link] = (left - lookups, now)


class SpotChecker:
    """Asks HotSpot whether SpotIDs exist and are active, remembering answers briefly."""

    def __init__(self, *, ttl: float = CACHE_SECONDS) -> None:
        self._ttl = ttl
        # HotSpot's spot for each SpotID asked, or None when it has none.
        self._cache: dict[str, tuple[float, Spot | None]] = {}
        self._budget = LinkBudget()

    async def verdicts(
        self, spot_ids: Iterable[str], *, operators: Iterable[str], link: str | None = None
    ) -> dict[str, SpotVerdict]:
        """The verdict on each well-formed SpotID (malformed ones are never sent), as a
        company with these HotSpot operators may see it. With `link`, lookups HotSpot must
        answer (not remembered) are charged to that link's budget (`TooManyChecks`)."""
        wanted = {s for s in spot_ids if format_problem(s) is None}
        now = time.monotonic()
        spots = {s: spot for s, (t, spot) in self._cache.items() if s in wanted and t > now}
        missing = sorted(wanted - spots.keys())
        unreachable: set[str] = set()
        if missing:
            if link is not None:
                self._budget.spend(link, len(missing))
            async with hotspot_client(person_waiting=True) as hotspot:
                answers = await asyncio.gather(
                    *(self._ask(hotspot, s) for s in missing), return_exceptions=True
                )
            if len(self._cache) > CACHE_SIZE:  # forget what expired, so it never grows unbounded
                self._cache = {s: entry for s, entry in self._cache.items() if entry[0] > now}
            for spot_id, answer in zip(missing, answers, strict=True):
                if isinstance(answer, HotSpotUnavailable | HotSpotAPIError):
                    logger.warning("HotSpot did not answer about SpotID %s: %s", spot_id, answer)
                    unreachable.add(spot_id)
                elif isinstance(answer, BaseException):
                    raise answer
                else:
                    spots[spot_id] = answer
                    if len(self._cache) < CACHE_SIZE:
                        self._cache[spot_id] = (now + self._ttl, answer)
        theirs = list(operators)
        found = {s: as_seen_by(s, spot, theirs) for s, spot in spots.items()}
        return found | {s: SpotVerdict(unreachable=True) for s in unreachable}

    @staticmethod
    async def _ask(hotspot: HotSpotClient, spot_id: str) -> Spot | None:
        """HotSpot's spot, or None when it has none."""
        try:
            return await hotspot.get_spot(spot_id)
        except SpotNotFound:
            return None


def as_seen_by(spot_id: str, spot: Spot | None, operators: Sequence[str]) -> SpotVerdict:
    """HotSpot's answer as a company with these operators may see it: nothing of a spot of
    another operator is shown (not its name, not whether it is active); such a SpotID is
    accepted for Offstreet to confirm, as the pipeline holds it for ops (`trust.who_owns`)."""
    if spot is None:
        return SpotVerdict(
            problem=f"HotSpot has no spot with SpotID {spot_id}. Check the number with "
            "your parking operator."
        )
    if not operates(operators, spot.operator):
        return SpotVerdict(unconfirmed=True)
    if not spot.active:
        return SpotVerdict(
            problem=f"SpotID {spot_id} ({spot.name}) is inactive in HotSpot: ask your "
            "parking operator to activate it, then submit again.",
            name=spot.name,
        )
    return SpotVerdict(name=spot.name)


async def hotspot_problems(
    rows: Sequence[Row],
    *,
    checker: SpotChecker,
    operators: Iterable[str],
    link: str | None = None,
) -> None:
    """Set HotSpot's word on each filled row that has no error yet (see `verdicts`)."""
    verdicts = await checker.verdicts(
        (row.spot_id for row in rows if row.spot_id and not row.error),
        operators=operators,
        link=link,
    )
    for row in rows:
        verdict = verdicts.get(row.spot_id)
        if row.error or verdict is None:
            continue
        if verdict.problem:
            row.error = verdict.problem
        elif verdict.unreachable:
            row.note = "HotSpot could not be asked just now; it is checked again after you submit."
        elif verdict.unconfirmed:
            row.note = "Offstreet will confirm this SpotID with HotSpot after you submit."
        else:
            row.note = f"HotSpot knows this spot: {verdict.name}."


async def check_rows(
    rows: Sequence[Row],
    *,
    company: str,
    locations: Sequence[str],
    operators: Iterable[str],
    checker: SpotChecker,
) -> bool:
    """Check every filled row; True when the form may be submitted as it is."""
    local_problems(rows, company=company, locations=locations)
    await hotspot_problems(rows, checker=checker, operators=operators)
    return not any(row.error for row in rows)
