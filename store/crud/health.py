"""Integration health: which mappings the check looks at, each check kept, and the notices
owed for new problems (claimed once, so a second run with nothing new tells nobody)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store.models import (
    HEALTH_CHECKED,
    Company,
    HealthCheck,
    HealthProblem,
    Location,
    MappingState,
    SpotMapping,
    TestPermit,
    utcnow,
)

Channel = Literal["ops", "contact"]


def mappings_to_check(
    session: Session, *, company_id: int | None = None
) -> Sequence[tuple[SpotMapping, Company, Location]]:
    """Every live or degraded mapping (of one company, if given), with its company and location."""
    query = (
        select(SpotMapping, Company, Location)
        .join(Company, col(Company.id) == col(SpotMapping.company_id))
        .join(Location, col(Location.id) == col(SpotMapping.location_id))
        .where(col(SpotMapping.state).in_(HEALTH_CHECKED))
        .order_by(Company.name, Location.name)
    )
    if company_id is not None:
        query = query.where(SpotMapping.company_id == company_id)
    return session.exec(query).all()


def degraded_spots(
    session: Session, *, company_id: int, problem: HealthProblem
) -> Sequence[tuple[SpotMapping, Location]]:
    """The company's mappings the health check found degraded for this problem."""
    return session.exec(
        select(SpotMapping, Location)
        .join(Location, col(Location.id) == col(SpotMapping.location_id))
        .where(
            SpotMapping.company_id == company_id,
            SpotMapping.state == MappingState.degraded,
            SpotMapping.problem == problem,
        )
        .order_by(Location.name)
    ).all()


def permit_by_external_id(session: Session, *, external_id: str) -> TestPermit | None:
    return session.exec(select(TestPermit).where(TestPermit.external_id == external_id)).first()


def record_health_check(
    session: Session,
    *,
    mapping_id: int,
    problem: HealthProblem | None,
    detail: str | None,
    permit_id: int | None = None,
) -> HealthCheck | None:
    """Keep the check and move the mapping: `degraded` with the problem, or `live` again.

    The mapping's row is locked while it is read and changed, so of two checks at once only one
    calls a problem new. None when the mapping is no longer live or degraded (a run of its own
    moved it meanwhile): nothing is recorded.
    """
    mapping = session.exec(
        select(SpotMapping).where(SpotMapping.id == mapping_id).with_for_update()
    ).first()
    if mapping is None or mapping.state not in HEALTH_CHECKED:
        return None
    new_problem = problem is not None and (
        mapping.state == MappingState.live or mapping.problem != problem
    )
    state = MappingState.live if problem is None else MappingState.degraded
    if (mapping.state, mapping.problem, mapping.reason) != (state, problem, detail):
        mapping.state, mapping.problem, mapping.reason = state, problem, detail
        mapping.updated_at = utcnow()
        session.add(mapping)
    check = HealthCheck(
        mapping_id=mapping_id,
        company_id=mapping.company_id,
        spot_id=mapping.spot_id,
        problem=problem,
        detail=detail,
        permit_id=permit_id,
        new_problem=new_problem,
    )
    session.add(check)
    session.flush()
    return check


def claim_health_notices(
    session: Session, *, channel: Channel, problems: Sequence[HealthProblem] | None = None
) -> Sequence[HealthCheck]:
    """The checks that found a new problem and whose notice on `channel` is not claimed yet
    (only these `problems`, if given), claimed now: each notice is sent once."""
    column = HealthCheck.ops_notified_at if channel == "ops" else HealthCheck.contact_notified_at
    query = select(HealthCheck).where(col(HealthCheck.new_problem).is_(True), col(column).is_(None))
    if problems is not None:
        query = query.where(col(HealthCheck.problem).in_(list(problems)))
    checks = session.exec(query.order_by(col(HealthCheck.id)).with_for_update()).all()
    now = utcnow()
    for check in checks:
        if channel == "ops":
            check.ops_notified_at = now
        else:
            check.contact_notified_at = now
        session.add(check)
    session.flush()
    return checks


def release_health_notices(session: Session, *, channel: Channel, check_ids: list[int]) -> None:
    """Unclaim notices that could not be sent, so the next check sends them."""
    for check in session.exec(select(HealthCheck).where(col(HealthCheck.id).in_(check_ids))):
        if channel == "ops":
            check.ops_notified_at = None
        else:
            check.contact_notified_at = None
        session.add(check)


def last_health_checks(session: Session) -> dict[int, HealthCheck]:
    """Each mapping's latest check, by mapping id."""
    latest = select(sa.func.max(HealthCheck.id)).group_by(col(HealthCheck.mapping_id))
    rows = session.exec(
        select(HealthCheck).where(col(HealthCheck.id).in_(latest.scalar_subquery()))
    )
    return {check.mapping_id: check for check in rows}


def health_history(session: Session, *, mapping_id: int) -> Sequence[HealthCheck]:
    """Every check of one mapping, oldest first."""
    return session.exec(
        select(HealthCheck)
        .where(HealthCheck.mapping_id == mapping_id)
        .order_by(col(HealthCheck.id))
    ).all()
