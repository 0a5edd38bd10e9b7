"""Step 3: map each new SpotID to its location, all in one transaction."""

from __future__ import annotations

from prefect import get_run_logger, task

from store import crud
from store.db import session_scope
from store.models import RequestState, SpotVerdict


@task(name="create-mappings")
async def create_mappings(request_id: int) -> int:
    """Map the request's accepted SpotIDs (those not mapped yet); returns how many were new."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        assert request.company_id is not None, "validation sets the company"
        integration, _ = crud.ensure_integration(session, company_id=request.company_id)
        company = crud.get_company(session, company_id=request.company_id)
        locations = {
            crud.normalise_location(loc.name): loc
            for loc in crud.company_locations(session, company=company)
        }
        lines = [
            line
            for line in crud.request_spots(session, request_id=request_id)
            if line.verdict == SpotVerdict.accepted
        ]
        mapped = crud.mappings_by_spot(session, spot_ids=[line.spot_id for line in lines])
        created = 0
        for line in lines:
            if line.spot_id in mapped:
                continue
            crud.add_mapping(
                session,
                company_id=company.id,
                integration_id=integration.id,
                location_id=locations[crud.normalise_location(line.location)].id,
                spot_id=line.spot_id,
                request_id=request_id,
            )
            created += 1
        crud.set_request_state(session, request=request, state=RequestState.mapped, reason=None)
    get_run_logger().info(
        "Request %s: %d new mappings (%d in all)", request_id, created, len(lines)
    )
    return created
