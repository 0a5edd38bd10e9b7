"""The health check's canary: a short permit that proves HotSpot still shows Offstreet's
permits at a SpotID, with the company's token when one is on file.

Recorded before it is pushed (plate HEALTH_PLATE, valid HEALTH_CANARY_MINUTES), with an
external_id of the check run and the mapping, so a retried step replays the same permit; looked
up as enforcement sees it with the verify step's growing waits until VERIFY_TIMEOUT_SECONDS;
then revoked. A permit another run left out at the mapping is withdrawn first (the partial
unique index allows one active permit per mapping), unless another check may still be waiting
for it; one a killed check left out is withdrawn by the sweep.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from sqlmodel import Session

from hotspot import HotSpotAPIError, HotSpotClient, PermissionDenied, SpotInactive
from settings import settings
from store import crud
from store.db import session_scope
from store.models import HealthProblem, PermitState, SpotMapping, TestPermit, utcnow
from tasks.permits import permit_request, revoke_test_permit
from tasks.policy import hotspot_client
from tasks.recorder import Recorder, set_permit
from tasks.token_link import TokenRefused
from tasks.verify import lookup_waits

# What a check found at a SpotID: the problem (None: healthy), why, the canary's permit id.
Checked = tuple[HealthProblem | None, str | None, int | None]


async def canary_problem(
    hotspot: HotSpotClient,
    *,
    mapping_id: int,
    company: str,
    spot_id: str,
    check_key: str,
    record: Recorder,
) -> Checked:
    """Push the canary, wait until enforcement shows it, revoke it; the problem, if any."""
    external_id = f"offstreet-health-{check_key}-{mapping_id}"
    leftover, token = await asyncio.to_thread(_leftover, mapping_id, company, spot_id, external_id)
    if leftover is not None:  # a killed check's canary, or a test permit: withdrawn first
        try:
            await revoke_test_permit(hotspot, leftover, token, record)
        except HotSpotAPIError:  # refused (a revoked token): it ends on its own, soon
            record(set_permit(leftover.id or 0, state=PermitState.revoked, revoked_at=utcnow()))
        await record.flush()  # revoked on file before the canary is: one active per mapping
    permit = await asyncio.to_thread(_record_canary, mapping_id, external_id, token)
    own_token = token if permit.with_company_token else None
    permit_id = permit.id or 0
    hotspot_id = permit.hotspot_permit_id
    if hotspot_id is None:
        try:
            pushed = await hotspot.create_permit(permit_request(permit), company_token=own_token)
        except PermissionDenied as exc:
            record(set_permit(permit_id, state=PermitState.refused))
            return (
                HealthProblem.token_refused,
                f"HotSpot refused {company}'s company token ({exc.message}): it was "
                "revoked or replaced; the company's contact is asked for the new one",
                permit_id,
            )
        except SpotInactive:
            record(set_permit(permit_id, state=PermitState.refused))
            why = f"HotSpot deactivated SpotID {spot_id}"
            return HealthProblem.spot_inactive, why, permit_id
        except HotSpotAPIError as exc:
            record(set_permit(permit_id, state=PermitState.refused))
            return HealthProblem.canary_not_visible, f"HotSpot refused the canary: {exc}", permit_id
        hotspot_id = pushed.permit_id
        permit.hotspot_permit_id, permit.state = hotspot_id, PermitState.issued
        record(set_permit(permit_id, state=PermitState.issued, hotspot_permit_id=hotspot_id))
    seen = await _until_visible(hotspot, spot_id, hotspot_id)
    if seen:
        record(set_permit(permit_id, state=PermitState.visible, visible_at=utcnow()))
    await revoke_test_permit(hotspot, permit, token, record)
    if seen:
        return None, None, permit_id
    how = "with the company token" if permit.with_company_token else "without a company token"
    return (
        HealthProblem.canary_not_visible,
        f"The canary permit ({settings.health_plate}, pushed {how}) did not show in HotSpot's "
        f"enforcement lookup within {settings.verify_timeout_seconds:.0f} s (revoked): HotSpot "
        "no longer shows Offstreet's permits at this spot; check with HotSpot",
        permit_id,
    )


class CheckedElsewhere(Exception):
    """Another health check's canary is out at the SpotID and may still be looked for."""


def _leftover(
    mapping_id: int, company: str, spot_id: str, external_id: str
) -> tuple[TestPermit | None, str | None]:
    """The company's token, and an active permit of another run still out at the mapping
    (`CheckedElsewhere` if it is a canary another check may still be waiting for)."""
    with session_scope() as session:
        owner = crud.get_company_by_name(session, name=company)
        assert owner is not None
        active = crud.active_permits(session, mapping_ids=[mapping_id])
        leftover = active.get(mapping_id)
        if leftover is not None and leftover.external_id == external_id:
            leftover = None  # this check's own canary: a retry goes on with it
        if leftover is not None:
            waited_for = timedelta(seconds=settings.verify_timeout_seconds + 60)
            if leftover.plate is not None and leftover.created_at > utcnow() - waited_for:
                raise CheckedElsewhere(f"another health check's canary is out at SpotID {spot_id}")
            session.expunge(leftover)
        return leftover, crud.company_token(owner)


def _record_canary(mapping_id: int, external_id: str, token: str | None) -> TestPermit:
    """The canary of this check at this mapping, on file before it is pushed (a retry of the
    step finds it and HotSpot returns the same permit)."""
    with session_scope() as session:
        permit = crud.permit_by_external_id(session, external_id=external_id)
        if permit is None:
            mapping = crud.get_mapping(session, mapping_id=mapping_id)
            permit = _add_canary(session, mapping, external_id, with_token=token is not None)
        session.expunge(permit)
    return permit


def _add_canary(
    session: Session, mapping: SpotMapping, external_id: str, *, with_token: bool
) -> TestPermit:
    """A canary permit on file: HEALTH_PLATE, valid HEALTH_CANARY_MINUTES from now."""
    start = utcnow()
    return crud.add_permit(
        session,
        mapping=mapping,
        external_id=external_id,
        with_company_token=with_token,
        start_time=start,
        end_time=start + timedelta(minutes=settings.health_canary_minutes),
        plate=settings.health_plate,
    )


async def _until_visible(hotspot: HotSpotClient, spot_id: str, hotspot_id: str) -> bool:
    """Enforcement lookups with growing waits (the verify step's) until the canary shows."""
    deadline = time.monotonic() + settings.verify_timeout_seconds
    for wait in lookup_waits():
        await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))
        lookup = await hotspot.lookup(settings.health_plate, spot_id)
        if lookup.shows(hotspot_id):
            return True
        if time.monotonic() >= deadline:
            return False
    return False  # pragma: no cover - lookup_waits never ends


async def try_renewed_token(company_id: int, token: str) -> bool:
    """Push a canary with the token at one of the company's SpotIDs whose token HotSpot
    refused, and revoke it at once: HotSpot's 403 raises `TokenRefused` (nothing is stored).
    False when no SpotID waits on a renewed token. `HotSpotUnavailable` passes up."""
    with session_scope() as session:
        refused = crud.degraded_spots(
            session, company_id=company_id, problem=HealthProblem.token_refused
        )
        if not refused:
            return False
        external_id = f"offstreet-health-token-{uuid.uuid4().hex}"
        permit = _add_canary(session, refused[0][0], external_id, with_token=True)
        session.expunge(permit)
    async with hotspot_client(person_waiting=True) as hotspot, Recorder() as record:
        try:
            pushed = await hotspot.create_permit(permit_request(permit), company_token=token)
        except HotSpotAPIError as exc:
            record(set_permit(permit.id or 0, state=PermitState.refused))
            raise TokenRefused(exc.message) from None
        permit.hotspot_permit_id = pushed.permit_id
        await revoke_test_permit(hotspot, permit, token, record)
    return True
