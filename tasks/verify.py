"""Step 5: poll HotSpot until each TEST123 permit shows in the enforcement lookup.

HotSpot's calls are shared by every run (its rate limit), so each is spent where it tells
something. Permits HotSpot has had for longer than it usually takes to propagate them are
looked up at once: in a large request, permits pushed early need that one lookup. The newest,
pushed together, follow one of them, the last pushed: only its status is polled, from a little
before the usual delay, and once HotSpot says it has propagated, each of them is looked up.
The usual delay is learned from the store: the median of the last permits whose propagation a
status poll caught (the first poll aims early, so the estimate follows HotSpot down as well as
up); until one is known, polling starts after VERIFY_FIRST_POLL_SECONDS.

While the lookup does not show a permit, HotSpot's own status for it says whether it has
propagated yet: as long as it is `accepted`, only that status is polled, every
VERIFY_LAG_SECONDS + VERIFY_LAG_FRACTION × the time waited so far, so a permit is seen within
about a tenth of its propagation delay while the enforcement lookup is asked only a few times.
The status is no proof (it turns `active` even for a permit enforcement will never show, as
one pushed without a token the operator requires): once it is `active`, only the lookup
decides, asked again with growing waits until the timeout. At the timeout, a permit still
`accepted` when last asked is asked once more, so the verdict never depends on how busy the
machine was.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Iterator

from prefect import get_run_logger, task
from pydantic import BaseModel

from hotspot import HotSpotAPIError, HotSpotClient
from settings import settings
from store import crud
from store.db import session_scope
from store.models import (
    NOT_YET_VERIFIED,
    MappingState,
    PermitState,
    RequestState,
    TestPermit,
    stored_id,
    utcnow,
)
from tasks.permits import revoke_test_permit
from tasks.policy import HOTSPOT_TASK_RETRIES, gather_all, hotspot_client
from tasks.recorder import Recorder, set_mapping, set_permit
from tasks.reports import PollProgress

PROGRESS_EVERY_SECONDS = 2.0
LEARNED_FROM = 20  # the last permits whose propagation a status poll caught
AIM = 0.8  # the newest permit's first status poll, at this share of the usual delay
# Without a usual delay yet: permits pushed this long before the newest are looked up on their
# own, the others follow the newest.
PUSHED_TOGETHER_SECONDS = 2.0


class VerificationReport(BaseModel):
    """SpotIDs whose TEST123 showed, and those that did not within the timeout."""

    visible: list[str]
    missing: list[str]


def status_poll_wait(waited: float) -> float:
    """While HotSpot says a permit has not propagated: the wait before asking it again."""
    wait = settings.verify_lag_seconds + settings.verify_lag_fraction * waited
    return min(wait, settings.verify_max_poll_interval_seconds)


def usual_propagation_delay(delays: list[float]) -> float | None:
    """HotSpot's usual delay from accepting a permit to propagating it; None until known."""
    return statistics.median(delays) if delays else None


def lookup_waits() -> Iterator[float]:
    """Once a permit is active but enforcement does not show it: waits between lookups."""
    delay = settings.verify_first_poll_seconds
    while True:
        yield delay
        delay = min(delay * settings.verify_poll_factor, settings.verify_max_poll_interval_seconds)


@task(name="poll-hotspot", **HOTSPOT_TASK_RETRIES)
async def verify_test_permits(request_id: int, timeout: float | None = None) -> VerificationReport:
    """Wait until every issued TEST123 is visible to enforcement, or the timeout passes.

    Every mapping not yet verified that has a permit out is watched, including one that
    waited or failed in an earlier run: a permit that showed late is found on any re-run.
    At the timeout, a permit HotSpot says is active but enforcement does not show will never
    show: it is revoked at once. One HotSpot has not propagated yet is left to a later run.
    """
    logger = get_run_logger()
    timeout = settings.verify_timeout_seconds if timeout is None else timeout
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        token = crud.requester_token(session, request=request)
        mappings = crud.request_mappings(session, request_id=request_id)
        already = [
            m.spot_id for m in mappings if m.state in (MappingState.verified, MappingState.live)
        ]
        unverified = [m for m in mappings if m.state in NOT_YET_VERIFIED]
        active = crud.active_permits(session, mapping_ids=[stored_id(m) for m in unverified])
        waiting = [
            permit
            for m in unverified
            if (permit := active.get(m.id or 0)) is not None
            and permit.state in (PermitState.issued, PermitState.visible)
        ]
        usual = usual_propagation_delay(crud.recent_propagation_delays(session, limit=LEARNED_FROM))
    watch = Watch(request_id, waiting, token=token, timeout=timeout, usual_delay=usual)
    missing: list[TestPermit] = []
    if waiting:
        async with hotspot_client() as hotspot, watch.record:
            reporter = asyncio.create_task(watch.report_progress())
            try:
                await watch.all_of(hotspot, waiting)
            finally:
                reporter.cancel()
            missing = [p for p in waiting if p.spot_id not in set(watch.visible)]
            never = [p for p in missing if p.id in watch.active]
            await gather_all(revoke_test_permit(hotspot, p, token, watch.record) for p in never)
        await watch.publish()
    _record_missing(missing, never_visible=watch.active, timeout=timeout)
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        crud.set_request_state(session, request=request, state=RequestState.verified, reason=None)
    if missing:
        logger.info("TEST123 not visible at %d SpotIDs after %.0f s", len(missing), timeout)
    return VerificationReport(visible=already + watch.visible, missing=[p.spot_id for p in missing])


class Watch:
    """The permits of one request being watched, on one clock, with what has been seen."""

    def __init__(
        self,
        request_id: int,
        permits: list[TestPermit],
        *,
        token: str | None,
        timeout: float,
        usual_delay: float | None = None,
    ) -> None:
        self.request_id, self.total, self.token = request_id, len(permits), token
        self.usual_delay = usual_delay
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.visible: list[str] = []
        # Permits HotSpot says are active (propagated): if the lookup never shows them, they
        # never will.
        self.active: set[int] = set()
        self.record = Recorder()
        self.progress = PollProgress(request_id, self.total)
        self._reported = -1

    async def all_of(self, hotspot: HotSpotClient, permits: list[TestPermit]) -> None:
        """Watch every permit: those HotSpot has had long enough on their own, the newest
        following the last pushed."""
        ages = [_age(p) for p in permits]
        if self.usual_delay is None:
            horizon = min(ages, default=0.0) + PUSHED_TOGETHER_SECONDS
            first = settings.verify_first_poll_seconds
        else:
            horizon, first = self.usual_delay, 0.0
        settled = [p for p, age in zip(permits, ages, strict=True) if age >= horizon]
        following = [p for p, age in zip(permits, ages, strict=True) if age < horizon]
        await gather_all(
            [
                *(self.until_visible(hotspot, p, first_look=first) for p in settled),
                self.following_the_last_pushed(hotspot, following),
            ]
        )

    async def following_the_last_pushed(
        self, hotspot: HotSpotClient, permits: list[TestPermit]
    ) -> None:
        """Poll the status of the last permit pushed until HotSpot says it propagated (from
        a little before the usual delay), then look each permit up."""
        if not permits:
            return
        last = min(permits, key=_age)
        if self.usual_delay is None:
            wait = settings.verify_first_poll_seconds
        else:
            wait = max(0.0, AIM * self.usual_delay - _age(last))
        await asyncio.sleep(min(wait, self._left()))
        while True:
            last_look = self._left() == 0
            if await self._propagated(hotspot, last, learn=True):
                break
            if last_look:
                break
            waited = time.monotonic() - self.started
            await asyncio.sleep(min(status_poll_wait(waited), self._left()))
        await gather_all(self.until_visible(hotspot, p, first_look=0.0) for p in permits)

    async def until_visible(
        self, hotspot: HotSpotClient, permit: TestPermit, *, first_look: float
    ) -> None:
        """Poll one permit until enforcement shows it, or the timeout passes."""
        await asyncio.sleep(min(first_look, self._left()))
        if await self._look_up(hotspot, permit):
            return
        propagated, backoff = False, lookup_waits()
        while True:
            waited = time.monotonic() - self.started
            wait = next(backoff) if propagated else status_poll_wait(waited)
            await asyncio.sleep(min(wait, self._left()))
            last_look = self._left() == 0
            # Asked even when the time is up: the verdict rests on HotSpot's answer, never on
            # whether the last poll happened to fit in a busy machine's timeout.
            if not propagated and (propagated := await self._propagated(hotspot, permit)):
                self.active.add(permit.id or 0)
            # Active: only the enforcement lookup decides.
            if propagated and await self._look_up(hotspot, permit):
                return
            if last_look:
                return

    def _left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    async def _propagated(
        self, hotspot: HotSpotClient, permit: TestPermit, *, learn: bool = False
    ) -> bool:
        """Whether HotSpot says the permit is past `accepted` (if it cannot say: assume so);
        with `learn`, when it first says so is kept, to learn the usual delay from."""
        token = self.token if permit.with_company_token else None
        try:
            status = await hotspot.get_permit(permit.hotspot_permit_id or "", company_token=token)
        except HotSpotAPIError:
            return True
        if status.status == "accepted":
            return False
        if learn and permit.issued_at is not None:
            self.record(set_permit(permit.id or 0, propagated_at=utcnow()))
        return True

    async def _look_up(self, hotspot: HotSpotClient, permit: TestPermit) -> bool:
        """One enforcement lookup; records the permit as seen when it shows."""
        lookup = await hotspot.lookup(settings.test_plate, permit.spot_id)
        if not lookup.shows(permit.hotspot_permit_id):
            return False
        self.record(set_permit(permit.id or 0, state=PermitState.visible, visible_at=utcnow()))
        self.record(set_mapping(permit.mapping_id, MappingState.verified))
        self.visible.append(permit.spot_id)
        return True

    async def report_progress(self) -> None:
        """Log and publish progress every few seconds while something changed."""
        while True:
            await asyncio.sleep(PROGRESS_EVERY_SECONDS)
            if len(self.visible) != self._reported:
                await self.publish()

    async def publish(self) -> None:
        seen, elapsed = len(self.visible), time.monotonic() - self.started
        self._reported = seen
        get_run_logger().info(
            "TEST123 visible at %d of %d SpotIDs after %.1f s", seen, self.total, elapsed
        )
        await self.progress.update(seen, elapsed)


def _age(permit: TestPermit) -> float:
    """Seconds since HotSpot accepted the permit (one kept from before this was recorded:
    long enough)."""
    if permit.issued_at is None:
        return math.inf
    return (utcnow() - permit.issued_at).total_seconds()


def _record_missing(permits: list[TestPermit], *, never_visible: set[int], timeout: float) -> None:
    """Say, per SpotID, why its TEST123 is not visible and what happens next."""
    with session_scope() as session:
        for permit in permits:
            if permit.id not in never_visible:
                state = MappingState.test_issued
                reason = (
                    f"HotSpot has not propagated TEST123 after {timeout:.0f} s; the permit stays "
                    "out and is checked again when the request is retried"
                )
            elif permit.with_company_token:
                state = MappingState.failed
                reason = (
                    f"TEST123, pushed with the company token, is not visible after "
                    f"{timeout:.0f} s (revoked); check the SpotID and the token with HotSpot, "
                    "then retry"
                )
            else:
                state = MappingState.waiting_on_ops
                reason = (
                    f"TEST123 is not visible after {timeout:.0f} s and no company token is on "
                    "file (revoked); the operator most likely needs the company's HotSpot token"
                )
            crud.set_mapping_state(
                session,
                mapping_id=permit.mapping_id,
                state=state,
                reason=reason,
                expected=NOT_YET_VERIFIED,
            )
