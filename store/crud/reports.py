"""Where requests and integrations stand, as plain models for the CLI, the UI and replies."""

from __future__ import annotations

from sqlmodel import Session

from store.crud.mappings import integration_mappings, list_integrations, mappings_by_spot
from store.crud.requests import get_request, list_requests, request_spots
from store.models import (
    Company,
    SpotVerdict,
)
from store.schemas import (
    IntegrationStatus,
    MappingStatus,
    RequestOutcome,
    SpotStatus,
    StatusReport,
)


def request_outcome(session: Session, *, request_id: int) -> RequestOutcome:
    """Each SpotID of the request with the state it is in now."""
    request = get_request(session, request_id=request_id)
    company = session.get(Company, request.company_id) if request.company_id else None
    lines = request_spots(session, request_id=request_id)
    mappings = mappings_by_spot(session, spot_ids=[line.spot_id for line in lines])
    spots = []
    for line in lines:
        mapping = mappings.get(line.spot_id)
        if line.verdict == SpotVerdict.accepted and mapping and mapping.request_id == request_id:
            spot = SpotStatus(
                location=line.location,
                spot_id=line.spot_id,
                status=mapping.state,
                reason=mapping.reason,
            )
        else:
            spot = SpotStatus(
                location=line.location,
                spot_id=line.spot_id,
                status=line.verdict,
                code=line.reason_code,
                reason=line.reason,
                customer_reason=line.customer_reason,
            )
        spots.append(spot)
    return RequestOutcome(
        request_id=request_id,
        company=company.name if company else None,
        state=request.state,
        reason=request.reason,
        spots=spots,
        run_last_seen_at=request.run_last_seen_at,
        interrupted=request.interrupted,
    )


def status_report(session: Session) -> StatusReport:
    integrations = [
        IntegrationStatus(
            company=company.name,
            status=integration.state,
            hotspot_operators=company.hotspot_operators,
            mappings=[
                MappingStatus(
                    location=location.name,
                    spot_id=mapping.spot_id,
                    status=mapping.state,
                    reason=mapping.reason,
                )
                for mapping, location in integration_mappings(
                    session, integration_id=integration.id or 0
                )
            ],
        )
        for company, integration in list_integrations(session)
    ]
    requests = [
        request_outcome(session, request_id=request.id or 0) for request in list_requests(session)
    ]
    return StatusReport(integrations=integrations, requests=requests)
