"""Step 3: map each new SpotID to its location, all in one transaction.

Validation ran on a snapshot: another request may have claimed one of these SpotIDs (or
locations) since. The mapping insert itself decides (unique SpotID, unique location); a
request that lost a line has nothing applied and is refused with the reason.
"""

from __future__ import annotations

from prefect import get_run_logger, task
from sqlmodel import Session

from store import crud
from store.db import session_scope
from store.models import (
    Company,
    RefusalCode,
    Refuser,
    RequestSpot,
    RequestState,
    SpotMapping,
    SpotVerdict,
)
from trust import who_owns


class LostClaim(Exception):
    """Another request mapped one of this request's SpotIDs or locations first."""

    def __init__(self, lost: dict[int, tuple[str, str]]) -> None:
        super().__init__(f"{len(lost)} SpotIDs were claimed by another request first")
        self.lost = lost  # line position → (reason for ops, reason for the customer)


@task(name="create-mappings")
async def create_mappings(request_id: int) -> bool:
    """Map the request's accepted SpotIDs; False when another request claimed one first (the
    request is then refused, with nothing applied)."""
    try:
        mapped = _claim(request_id)
    except LostClaim as lost:
        _refuse(request_id, lost)
        get_run_logger().warning("Request %s: %s; nothing applied", request_id, lost)
        return False
    get_run_logger().info("Request %s: %d SpotIDs mapped", request_id, mapped)
    return True


def _claim(request_id: int) -> int:
    """Claim every accepted line's mapping in one transaction, or none of them."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        assert request.company_id is not None, "validation sets the company"
        company = crud.get_company(session, company_id=request.company_id)
        integration, _ = crud.ensure_integration(session, company_id=company.id or 0)
        locations = {
            crud.location_key(loc.name): loc.id or 0
            for loc in crud.company_locations(session, company=company)
        }
        lines = [
            line
            for line in crud.request_spots(session, request_id=request_id)
            if line.verdict == SpotVerdict.accepted
        ]
        wanted = {
            line.position: (locations[crud.location_key(line.location)], line.spot_id)
            for line in lines
        }
        claimed = crud.claim_mappings(
            session,
            company_id=company.id or 0,
            integration_id=integration.id or 0,
            request_id=request_id,
            wanted=list(wanted.values()),
        )
        lost = {
            line.position: _why_lost(session, line, claimed[line.spot_id], company)
            for line in lines
            if not _ours(claimed[line.spot_id], request_id, wanted[line.position][0])
        }
        if lost:
            raise LostClaim(lost)  # rolls the whole transaction back: nothing applied
        crud.set_request_state(session, request=request, state=RequestState.mapped, reason=None)
        return len(lines)


def _ours(mapping: SpotMapping | None, request_id: int, location_id: int) -> bool:
    return (
        mapping is not None
        and mapping.request_id == request_id
        and mapping.location_id == location_id
    )


def _why_lost(
    session: Session, line: RequestSpot, mapping: SpotMapping | None, company: Company
) -> tuple[str, str]:
    """(for ops, for the customer): why another request's claim beat this line's."""
    if mapping is None:
        return (
            f"'{line.location}' was mapped to another SpotID by another request meanwhile",
            f"'{line.location}' was just set up with another SpotID",
        )
    owner = crud.company_names(session, company_ids=[mapping.company_id])[mapping.company_id]
    if mapping.company_id != company.id:
        verdict = who_owns(company=company, spot_id=line.spot_id, operator=None, mapped_to=owner)
        return verdict.reason or "", verdict.customer_reason or ""
    return (
        f"request {mapping.request_id} mapped this SpotID meanwhile; continue that one",
        f"this SpotID is being set up from your request #{mapping.request_id}",
    )


def _refuse(request_id: int, lost: LostClaim) -> None:
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        lines = crud.request_spots(session, request_id=request_id)
        for line in lines:
            if line.position in lost.lost:
                reason, customer_reason = lost.lost[line.position]
                crud.set_verdict(
                    session,
                    line=line,
                    verdict=SpotVerdict.rejected,
                    code=RefusalCode.claimed_meanwhile,
                    reason=reason,
                    customer_reason=customer_reason,
                )
        crud.set_request_state(
            session,
            request=request,
            state=RequestState.rejected,
            reason=f"{len(lost.lost)} of {len(lines)} SpotIDs refused, nothing applied",
            refused_by=Refuser.mapping,
        )
