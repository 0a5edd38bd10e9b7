"""Where requests and integrations stand, as plain models for the CLI, the UI and replies."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from store.crud._base import location_key
from store.crud.companies import company_locations
from store.crud.health import last_health_checks
from store.crud.mappings import (
    get_integration,
    integration_mappings,
    list_integrations,
    mappings_by_location,
    mappings_by_spot,
)
from store.crud.requests import get_request, list_requests, request_spots
from store.models import (
    Company,
    HealthCheck,
    HealthProblem,
    IssuedLink,
    LinkPurpose,
    MappingState,
    OnboardingRequest,
    Phase,
    RequestState,
    SpotVerdict,
    utcnow,
)
from store.schemas import (
    CompanyStanding,
    IntegrationStatus,
    LocationStanding,
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
    checks = last_health_checks(session)
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
                    problem=mapping.problem,
                    checked_at=_checked_at(checks.get(mapping.id or 0)),
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


def _checked_at(check: HealthCheck | None) -> datetime | None:
    return check.checked_at if check is not None else None


OPEN_REQUEST_STATES = tuple(state for state in RequestState if not state.phase.is_final)


def company_standing(session: Session, *, company: Company) -> CompanyStanding:
    """Each of the company's locations: live, being tested, waiting on the company's token,
    waiting on Offstreet, or not asked for yet."""
    integration = get_integration(session, company_id=company.id or 0)
    mappings = mappings_by_location(session, company_id=company.id or 0)
    requests = session.exec(
        select(OnboardingRequest).where(
            OnboardingRequest.company_id == company.id,
            col(OnboardingRequest.state).in_(OPEN_REQUEST_STATES),
        )
    ).all()
    asked: dict[str, str] = {}  # location (normalised) -> SpotID, from requests still open
    for request in requests:
        for line in request_spots(session, request_id=request.id or 0):
            if line.verdict not in (SpotVerdict.rejected, SpotVerdict.already_live):
                asked.setdefault(location_key(line.location), line.spot_id)
    token_waits = company.hotspot_token_encrypted is None
    standings = []
    for location in company_locations(session, company=company):
        mapping = mappings.get(location.id or 0)
        if mapping is not None:
            if mapping.state == MappingState.live:
                standing = "live"
            elif mapping.state.phase == Phase.at_work:
                standing = "testing"
            elif mapping.problem == HealthProblem.token_refused:  # a renewed token
                standing = "waiting_on_you"
            elif mapping.state == MappingState.waiting_on_ops:  # the company's token
                standing = "waiting_on_you" if token_waits else "waiting_on_offstreet"
            else:
                standing = "waiting_on_offstreet"
            spot_id: str | None = mapping.spot_id
        elif location_key(location.name) in asked:
            standing, spot_id = "waiting_on_offstreet", asked[location_key(location.name)]
        else:
            standing, spot_id = "not_requested", None
        standings.append(
            LocationStanding(location=location.name, spot_id=spot_id, standing=standing)
        )
    links = session.exec(
        select(IssuedLink.id).where(
            IssuedLink.company_id == company.id,
            IssuedLink.purpose == LinkPurpose.token,
            col(IssuedLink.used_at).is_(None),
            col(IssuedLink.revoked_at).is_(None),
            IssuedLink.expires_at > utcnow(),
        )
    ).first()
    return CompanyStanding(
        company=company.name,
        integration=integration.state.value if integration else None,
        locations=standings,
        token_link_open=links is not None,
    )
