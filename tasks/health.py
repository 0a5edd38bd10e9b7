"""The health check of live integrations: is each mapping still what went live?

Per mapping, in at most four HotSpot calls when healthy: the spot (it exists, is active, and its
operator is still one of the company's: `trust.ownership` decides), then a canary permit (plate
HEALTH_PLATE, valid HEALTH_CANARY_MINUTES) pushed with the company's token when one is on file,
looked up as enforcement sees it until VERIFY_TIMEOUT_SECONDS, and revoked. The canary is
recorded before it is pushed, with an external_id derived from the check run and the mapping,
so a retried step replays the same permit; the sweep withdraws one a killed check left out.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from prefect import get_run_logger, task
from prefect.runtime import flow_run
from pydantic import BaseModel

from hotspot import (
    HotSpotAPIError,
    HotSpotClient,
    HotSpotError,
    PermissionDenied,
    SpotInactive,
    SpotNotFound,
)
from settings import settings
from store import crud
from store.db import session_scope
from store.models import HealthProblem, PermitState, TestPermit, utcnow
from tasks.permits import permit_request, revoke_test_permit
from tasks.policy import gather_all, hotspot_client
from tasks.recorder import Recorder, set_permit
from tasks.token_link import TokenRefused
from tasks.verify import lookup_waits
from trust.ownership import Ownership, OwnershipVerdict, who_owns


class Target(BaseModel):
    """One live (or degraded) mapping to check, with what the check needs to know."""

    mapping_id: int
    company: str
    location: str
    spot_id: str


class Finding(BaseModel):
    """What the check found at one mapping: no problem, or the problem and why."""

    mapping_id: int
    company: str
    location: str
    spot_id: str
    problem: HealthProblem | None = None
    detail: str | None = None
    permit_id: int | None = None
    # False: HotSpot could not be asked; nothing is recorded for it this time.
    checked: bool = True


@task(name="find-integrations-to-check")
def integrations_to_check(company: str | None = None) -> list[Target]:
    """Every live or degraded mapping, of one company if named (LookupError if unknown)."""
    with session_scope() as session:
        company_id = None
        if company is not None:
            found = crud.get_company_by_name(session, name=company)
            if found is None:
                raise LookupError(f"no company {company!r}")
            company_id = found.id
        return [
            Target(
                mapping_id=mapping.id or 0,
                company=owner.name,
                location=location.name,
                spot_id=mapping.spot_id,
            )
            for mapping, owner, location in crud.mappings_to_check(session, company_id=company_id)
        ]


@task(name="check-integrations")
async def check_integrations(targets: list[Target]) -> list[Finding]:
    """Check every mapping at once (paced by the shared HotSpot limiter). A mapping HotSpot
    could not be asked about (an outage outlasting the client's retries, an unexpected
    answer) stays as it is:
    its finding says so and is not recorded; the next check asks again."""
    check_key = str(flow_run.id or uuid.uuid4())
    found: dict[int, Finding] = {}
    async with hotspot_client() as hotspot, Recorder() as record:
        await gather_all(
            _check_one(hotspot, target, check_key, record, found) for target in targets
        )
    return [found[target.mapping_id] for target in targets]


async def _check_one(
    hotspot: HotSpotClient,
    target: Target,
    check_key: str,
    record: Recorder,
    found: dict[int, Finding],
) -> None:
    try:
        problem, detail, permit_id = await _spot_problem(hotspot, target)
        if problem is None:
            problem, detail, permit_id = await _canary_problem(hotspot, target, check_key, record)
    except HotSpotError as exc:  # unavailable, or an answer the contract does not expect
        found[target.mapping_id] = Finding(
            **target.model_dump(), checked=False, detail=f"HotSpot could not be asked: {exc}"
        )
        return
    except CheckedElsewhere as exc:
        found[target.mapping_id] = Finding(**target.model_dump(), checked=False, detail=str(exc))
        return
    found[target.mapping_id] = Finding(
        **target.model_dump(), problem=problem, detail=detail, permit_id=permit_id
    )


Checked = tuple[HealthProblem | None, str | None, int | None]


async def _spot_problem(hotspot: HotSpotClient, target: Target) -> Checked:
    """The spot as HotSpot has it now: gone, inactive, or another operator's."""
    try:
        spot = await hotspot.get_spot(target.spot_id)
    except SpotNotFound:
        why = f"HotSpot no longer knows SpotID {target.spot_id}"
        return HealthProblem.spot_not_found, why, None
    if not spot.active:
        return (
            HealthProblem.spot_inactive,
            f"HotSpot deactivated SpotID {target.spot_id}; ask {target.company} whether the "
            "location closed or moved to another SpotID",
            None,
        )
    verdict = await asyncio.to_thread(_ownership, target, spot.operator)
    if verdict.ownership != Ownership.owned:
        return HealthProblem.operator_changed, verdict.reason, None
    return None, None, None


def _ownership(target: Target, operator: str) -> OwnershipVerdict:
    """Whether the company may still have the spot, now that HotSpot names this operator."""
    with session_scope() as session:
        company = crud.get_company_by_name(session, name=target.company)
        assert company is not None
        return who_owns(
            company=company, spot_id=target.spot_id, operator=operator, mapped_to=company.name
        )


async def _canary_problem(
    hotspot: HotSpotClient, target: Target, check_key: str, record: Recorder
) -> Checked:
    """Push the canary, wait until enforcement shows it, revoke it."""
    external_id = f"offstreet-health-{check_key}-{target.mapping_id}"
    leftover, token = await asyncio.to_thread(_leftover, target, external_id)
    if leftover is not None:  # a killed check's canary, or a test permit: withdrawn first
        try:
            await revoke_test_permit(hotspot, leftover, token, record)
        except HotSpotAPIError:  # refused (a revoked token): it ends on its own, soon
            record(set_permit(leftover.id or 0, state=PermitState.revoked, revoked_at=utcnow()))
        await record.flush()  # revoked on file before the canary is: one active per mapping
    permit = await asyncio.to_thread(_record_canary, target, external_id, token)
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
                f"HotSpot refused {target.company}'s company token ({exc.message}): it was "
                "revoked or replaced; the company's contact is asked for the new one",
                permit_id,
            )
        except SpotInactive:
            record(set_permit(permit_id, state=PermitState.refused))
            why = f"HotSpot deactivated SpotID {target.spot_id}"
            return HealthProblem.spot_inactive, why, permit_id
        except HotSpotAPIError as exc:
            record(set_permit(permit_id, state=PermitState.refused))
            return HealthProblem.canary_not_visible, f"HotSpot refused the canary: {exc}", permit_id
        hotspot_id = pushed.permit_id
        permit.hotspot_permit_id, permit.state = hotspot_id, PermitState.issued
        record(set_permit(permit_id, state=PermitState.issued, hotspot_permit_id=hotspot_id))
    seen = await _until_visible(hotspot, target.spot_id, hotspot_id)
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


def _leftover(target: Target, external_id: str) -> tuple[TestPermit | None, str | None]:
    """The company's token, and an active permit of another run still out at the mapping
    (`CheckedElsewhere` if it is a canary another check may still be waiting for)."""
    with session_scope() as session:
        company = crud.get_company_by_name(session, name=target.company)
        assert company is not None
        active = crud.active_permits(session, mapping_ids=[target.mapping_id])
        leftover = active.get(target.mapping_id)
        if leftover is not None and leftover.external_id == external_id:
            leftover = None  # this check's own canary: a retry goes on with it
        if leftover is not None:
            waited_for = timedelta(seconds=settings.verify_timeout_seconds + 60)
            if leftover.plate is not None and leftover.created_at > utcnow() - waited_for:
                raise CheckedElsewhere(
                    f"another health check's canary is out at SpotID {target.spot_id}"
                )
            session.expunge(leftover)
        return leftover, crud.company_token(company)


def _record_canary(target: Target, external_id: str, token: str | None) -> TestPermit:
    """The canary of this check at this mapping, on file before it is pushed (a retry of the
    step finds it and HotSpot returns the same permit)."""
    with session_scope() as session:
        permit = crud.permit_by_external_id(session, external_id=external_id)
        if permit is None:
            start = utcnow()
            permit = crud.add_permit(
                session,
                mapping=crud.get_mapping(session, mapping_id=target.mapping_id),
                external_id=external_id,
                with_company_token=token is not None,
                start_time=start,
                end_time=start + timedelta(minutes=settings.health_canary_minutes),
                plate=settings.health_plate,
            )
        session.expunge(permit)
    return permit


async def _until_visible(hotspot: HotSpotClient, spot_id: str, hotspot_id: str) -> bool:
    """Enforcement lookups with growing waits (the verify step's) until the canary shows."""
    deadline = time.monotonic() + settings.verify_timeout_seconds
    for wait in lookup_waits():
        await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))
        lookup = await hotspot.lookup(settings.health_plate, spot_id)
        if lookup.valid and any(p.permit_id == hotspot_id for p in lookup.permits):
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
        mapping = refused[0][0]
        start = utcnow()
        permit = crud.add_permit(
            session,
            mapping=mapping,
            external_id=f"offstreet-health-token-{uuid.uuid4().hex}",
            with_company_token=True,
            start_time=start,
            end_time=start + timedelta(minutes=settings.health_canary_minutes),
            plate=settings.health_plate,
        )
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


@task(name="record-health")
def record_health(findings: list[Finding]) -> list[Finding]:
    """Keep every check; the mappings whose problem is new (ops are told about these)."""
    new: list[Finding] = []
    with session_scope() as session:
        for finding in findings:
            if not finding.checked:
                continue
            check = crud.record_health_check(
                session,
                mapping_id=finding.mapping_id,
                problem=finding.problem,
                detail=finding.detail,
                permit_id=finding.permit_id,
            )
            if check is not None and check.new_problem:
                new.append(finding)
    logger = get_run_logger()
    for finding in findings:
        if not finding.checked or finding.problem is not None:
            logger.warning(
                "%s, SpotID %s: %s", finding.company, finding.spot_id, finding.detail or ""
            )
    return new
