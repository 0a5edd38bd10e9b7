"""Step 5: poll HotSpot's enforcement lookup until each TEST123 permit shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

from prefect import get_run_logger, task
from pydantic import BaseModel

from hotspot import HotSpotClient
from settings import settings
from store import crud
from store.db import session_scope
from store.models import MappingState, PermitState, RequestState, TestPermit, utcnow
from tasks.policy import HOTSPOT_TASK_RETRIES, gather_all, hotspot_client
from tasks.reports import PollProgress


class VerificationReport(BaseModel):
    """SpotIDs whose TEST123 showed, and those that did not within the timeout."""

    visible: list[str]
    missing: list[str]


def poll_delays(*, timeout: float) -> Iterator[float]:
    """Waits before each lookup round: growing geometrically, capped, within the timeout."""
    delay, waited = settings.verify_first_poll_seconds, 0.0
    while waited + delay <= timeout:
        yield delay
        waited += delay
        delay = min(delay * settings.verify_poll_factor, settings.verify_max_poll_interval_seconds)
    if waited < timeout:
        yield timeout - waited


@task(name="poll-hotspot", **HOTSPOT_TASK_RETRIES)
async def verify_test_permits(request_id: int, timeout: float | None = None) -> VerificationReport:
    """Wait until every issued TEST123 is visible to enforcement, or the timeout passes."""
    logger = get_run_logger()
    timeout = settings.verify_timeout_seconds if timeout is None else timeout
    with session_scope() as session:
        already = [
            m.spot_id
            for m in crud.request_mappings(session, request_id=request_id)
            if m.state in (MappingState.verified, MappingState.live)
        ]
        waiting = {
            permit.id: permit
            for m in crud.request_mappings(session, request_id=request_id)
            if m.state == MappingState.test_issued
            and (permit := crud.active_permit(session, mapping_id=m.id)) is not None
            and permit.state == PermitState.issued
        }
    total, started = len(waiting), time.monotonic()
    visible: list[str] = []
    progress = PollProgress(request_id, total)
    async with hotspot_client() as hotspot:
        for delay in poll_delays(timeout=timeout) if waiting else ():
            await asyncio.sleep(delay)
            seen = await _look_up(hotspot, list(waiting.values()))
            for permit in seen:
                del waiting[permit.id]
                visible.append(permit.spot_id)
            logger.info(
                "TEST123 visible at %d of %d SpotIDs after %.1f s",
                total - len(waiting),
                total,
                time.monotonic() - started,
            )
            await progress.update(total - len(waiting), time.monotonic() - started)
            if not waiting:
                break
    _record_missing(list(waiting.values()), timeout=timeout)
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        crud.set_request_state(session, request=request, state=RequestState.verified, reason=None)
    return VerificationReport(
        visible=already + visible, missing=[p.spot_id for p in waiting.values()]
    )


async def _look_up(hotspot: HotSpotClient, permits: list[TestPermit]) -> list[TestPermit]:
    """One lookup round; records and returns the permits enforcement can now see."""
    seen: list[TestPermit] = []

    async def check(permit: TestPermit) -> None:
        lookup = await hotspot.lookup(settings.test_plate, permit.spot_id)
        if not any(p.permit_id == permit.hotspot_permit_id for p in lookup.permits if lookup.valid):
            return
        with session_scope() as session:
            row = crud.get_permit(session, permit_id=permit.id)
            crud.update_permit(session, permit=row, state=PermitState.visible, visible_at=utcnow())
            mapping = crud.get_mapping(session, mapping_id=permit.mapping_id)
            crud.set_mapping_state(session, mapping=mapping, state=MappingState.verified)
        seen.append(permit)

    await gather_all(check(permit) for permit in permits)
    return seen


def _record_missing(permits: list[TestPermit], *, timeout: float) -> None:
    """Say, per SpotID, why its TEST123 is not visible and what ops should do."""
    with session_scope() as session:
        for permit in permits:
            mapping = crud.get_mapping(session, mapping_id=permit.mapping_id)
            if permit.with_company_token:
                state = MappingState.failed
                reason = (
                    f"TEST123, pushed with the company token, is not visible after "
                    f"{timeout:.0f} s; check the SpotID and the token with HotSpot, then retry"
                )
            else:
                state = MappingState.waiting_on_ops
                reason = (
                    f"TEST123 is not visible after {timeout:.0f} s and no company token is on "
                    "file; the operator most likely needs the company's HotSpot token"
                )
            crud.set_mapping_state(session, mapping=mapping, state=state, reason=reason)
