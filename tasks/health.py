"""The health check of live integrations: is each mapping still what went live?

Per mapping, in four HotSpot calls when healthy: the spot (it exists, is active, and its
operator is still one of the company's: `trust.ownership` decides), then the canary permit
(`tasks.canary`: pushed, looked up as enforcement sees it, revoked). Every check is kept; a
broken mapping becomes `degraded` with its problem, a passing one `live` again.
"""

from __future__ import annotations

import asyncio
import uuid

from prefect import get_run_logger, task
from prefect.runtime import flow_run
from pydantic import BaseModel

from hotspot import HotSpotClient, HotSpotError, SpotNotFound
from store import crud
from store.db import session_scope
from store.models import HealthProblem
from tasks.canary import Checked, CheckedElsewhere, canary_problem
from tasks.policy import gather_all, hotspot_client
from tasks.recorder import Recorder
from trust.ownership import Ownership, OwnershipVerdict, who_owns


class Target(BaseModel):
    """One live (or degraded) mapping to check, with what the check needs to know."""

    mapping_id: int
    company: str
    location: str
    spot_id: str


class Finding(Target):
    """What the check found at one mapping: no problem, or the problem and why."""

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
            problem, detail, permit_id = await canary_problem(
                hotspot,
                mapping_id=target.mapping_id,
                company=target.company,
                spot_id=target.spot_id,
                check_key=check_key,
                record=record,
            )
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
