"""Integrations and SpotID mappings: one integration per company, each SpotID and each location
mapped once (the database decides races).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store.crud._base import insert_or_nothing, rows_changed
from store.models import (
    Company,
    Integration,
    IntegrationState,
    Location,
    MappingState,
    RequestSpot,
    SpotMapping,
    SpotVerdict,
    utcnow,
)


def get_integration(session: Session, *, company_id: int) -> Integration | None:
    return session.exec(select(Integration).where(Integration.company_id == company_id)).first()


def ensure_integration(session: Session, *, company_id: int) -> tuple[Integration, bool]:
    """The company's one integration, created if it has none yet.

    Two requests of a new company at once: the database's unique company decides, the
    loser reads the winner's row (no check-then-insert).
    """
    created = insert_or_nothing(
        session,
        Integration,
        company_id=company_id,
        state=IntegrationState.pending,
        created_at=utcnow(),
    )
    integration = get_integration(session, company_id=company_id)
    assert integration is not None
    return integration, created


def mark_integration_live(session: Session, *, integration_id: int) -> None:
    integration = session.get(Integration, integration_id)
    if integration is not None and integration.state != IntegrationState.live:
        integration.state = IntegrationState.live
        integration.live_at = utcnow()
        session.add(integration)


def mappings_by_spot(session: Session, *, spot_ids: Iterable[str]) -> dict[str, SpotMapping]:
    rows = session.exec(select(SpotMapping).where(col(SpotMapping.spot_id).in_(list(spot_ids))))
    return {mapping.spot_id: mapping for mapping in rows}


def mappings_by_location(session: Session, *, company_id: int) -> dict[int, SpotMapping]:
    rows = session.exec(select(SpotMapping).where(SpotMapping.company_id == company_id))
    return {mapping.location_id: mapping for mapping in rows}


def claim_mappings(
    session: Session,
    *,
    company_id: int,
    integration_id: int,
    request_id: int,
    wanted: Sequence[tuple[int, str]],
) -> dict[str, SpotMapping | None]:
    """Map each (location id, SpotID) for this request unless either side is mapped already;
    the mapping each SpotID has afterwards (None: its location went to another SpotID).

    The database decides races (unique SpotID, unique location): of two requests claiming a
    SpotID at once, the first insert wins and the other reads the winner's mapping.
    """
    for location_id, spot_id in wanted:
        now = utcnow()
        insert_or_nothing(
            session,
            SpotMapping,
            company_id=company_id,
            integration_id=integration_id,
            location_id=location_id,
            spot_id=spot_id,
            request_id=request_id,
            state=MappingState.mapped,
            created_at=now,
            updated_at=now,
        )
    mappings = mappings_by_spot(session, spot_ids=[spot_id for _, spot_id in wanted])
    return {spot_id: mappings.get(spot_id) for _, spot_id in wanted}


def get_mapping(session: Session, *, mapping_id: int) -> SpotMapping:
    mapping = session.get(SpotMapping, mapping_id)
    if mapping is None:
        raise LookupError(f"no mapping {mapping_id}")
    return mapping


def request_mappings(session: Session, *, request_id: int) -> Sequence[SpotMapping]:
    """The mappings for the request's accepted SpotIDs, in request order."""
    return session.exec(
        select(SpotMapping)
        .join(RequestSpot, col(RequestSpot.spot_id) == col(SpotMapping.spot_id))
        .where(
            RequestSpot.request_id == request_id,
            RequestSpot.verdict == SpotVerdict.accepted,
            SpotMapping.request_id == request_id,
        )
        .order_by(col(RequestSpot.position))
    ).all()


def set_mapping_state(
    session: Session,
    *,
    mapping_id: int,
    state: MappingState,
    reason: str | None = None,
    expected: Collection[MappingState],
) -> bool:
    """Move the mapping to `state` only if it is in one of the `expected` states now (compare
    and set, in the database): a stale run never overwrites a newer truth. True if moved."""
    moved = session.execute(
        sa.update(SpotMapping)
        .where(col(SpotMapping.id) == mapping_id, col(SpotMapping.state).in_(list(expected)))
        .values(state=state, reason=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(moved))


def list_integrations(session: Session) -> Sequence[tuple[Company, Integration]]:
    return session.exec(
        select(Company, Integration)
        .join(Integration, col(Integration.company_id) == col(Company.id))
        .order_by(Company.name)
    ).all()


def integration_mappings(
    session: Session, *, integration_id: int
) -> Sequence[tuple[SpotMapping, Location]]:
    return session.exec(
        select(SpotMapping, Location)
        .join(Location, col(Location.id) == col(SpotMapping.location_id))
        .where(SpotMapping.integration_id == integration_id)
        .order_by(Location.name)
    ).all()
