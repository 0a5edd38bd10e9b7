"""Test permits: the ledger of every TEST123 pushed to HotSpot."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from store.models import (
    ACTIVE_PERMIT_STATES,
    Company,
    PermitState,
    SpotMapping,
    TestPermit,
    stored_id,
    utcnow,
)


def active_permits(session: Session, *, mapping_ids: Iterable[int]) -> dict[int, TestPermit]:
    """The active test permit of each of these mappings that has one, by mapping id."""
    ids = list(mapping_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(TestPermit).where(
            col(TestPermit.mapping_id).in_(ids), col(TestPermit.state).in_(ACTIVE_PERMIT_STATES)
        )
    )
    return {permit.mapping_id: permit for permit in rows}


def add_permit(
    session: Session,
    *,
    mapping: SpotMapping,
    external_id: str,
    with_company_token: bool,
    start_time: datetime,
    end_time: datetime,
    plate: str | None = None,
) -> TestPermit:
    """Record a test permit before it is pushed, so a retried push reuses its external_id."""
    permit = TestPermit(
        plate=plate,
        mapping_id=stored_id(mapping),
        spot_id=mapping.spot_id,
        external_id=external_id,
        with_company_token=with_company_token,
        start_time=start_time,
        end_time=end_time,
    )
    session.add(permit)
    session.flush()
    return permit


def get_permit(session: Session, *, permit_id: int) -> TestPermit:
    permit = session.get(TestPermit, permit_id)
    if permit is None:
        raise LookupError(f"no test permit {permit_id}")
    return permit


def recent_propagation_delays(session: Session, *, limit: int) -> list[float]:
    """Seconds from HotSpot accepting a test permit to a status poll finding it propagated,
    for the last `limit` permits whose propagation was caught so."""
    rows = session.exec(
        select(TestPermit.issued_at, TestPermit.propagated_at)
        .where(col(TestPermit.issued_at).is_not(None), col(TestPermit.propagated_at).is_not(None))
        .order_by(col(TestPermit.propagated_at).desc())
        .limit(limit)
    )
    return [
        (propagated - issued).total_seconds()
        for issued, propagated in rows
        if issued and propagated
    ]


def update_permit(session: Session, *, permit: TestPermit, **changes: object) -> None:
    for name, value in changes.items():
        setattr(permit, name, value)
    if changes.get("state") == PermitState.revoked and permit.revoked_at is None:
        permit.revoked_at = utcnow()
    session.add(permit)


def expired_active_permits(
    session: Session, *, before: datetime
) -> Sequence[tuple[TestPermit, Company]]:
    """Test permits the store still calls active though they ended before `before`, each with
    the company whose token (if any) pushed it."""
    return session.exec(
        select(TestPermit, Company)
        .join(SpotMapping, col(SpotMapping.id) == col(TestPermit.mapping_id))
        .join(Company, col(Company.id) == col(SpotMapping.company_id))
        .where(col(TestPermit.state).in_(ACTIVE_PERMIT_STATES), TestPermit.end_time < before)
        .order_by(col(TestPermit.id))
    ).all()


def permits_for_spot(session: Session, *, spot_id: str) -> Sequence[TestPermit]:
    return session.exec(
        select(TestPermit).where(TestPermit.spot_id == spot_id).order_by(col(TestPermit.id))
    ).all()
