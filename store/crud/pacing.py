"""HotSpot's pace shared through the store: each call takes the partner key's next free slot
in one UPDATE, so the database, not a read-then-write, spaces every worker's calls."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col

from store.crud._base import insert_or_nothing
from store.models import HotSpotPace


def take_call_slot(session: Session, *, key: str, interval: float, now: float) -> float:
    """When the caller may send (Unix seconds): the key's next free moment, or now if that has
    passed; the next caller's is one `interval` later."""
    taken = _move_on(session, key=key, to=_no_earlier_than(now) + interval)
    return taken - interval


def hold_calls(session: Session, *, key: str, until: float) -> None:
    """No slot of the key before `until` (HotSpot's Retry-After); a later hold stands."""
    _move_on(session, key=key, to=_no_earlier_than(until))


def _no_earlier_than(moment: float) -> sa.ColumnElement[float]:
    """The key's next free moment, or `moment` if that is later."""
    next_at = col(HotSpotPace.next_at)
    return sa.case((next_at > moment, next_at), else_=moment)


def _move_on(session: Session, *, key: str, to: sa.ColumnElement[float]) -> float:
    """Set the key's next free moment (its row made on first use); the new value."""
    statement = (
        sa.update(HotSpotPace)
        .where(col(HotSpotPace.key) == key)
        .values(next_at=to)
        .returning(col(HotSpotPace.next_at))
    )
    moved = session.execute(statement).scalar_one_or_none()
    if moved is None:  # the key's first call: one INSERT, then every call is the UPDATE alone
        insert_or_nothing(session, HotSpotPace, key=key, next_at=0.0)
        moved = session.execute(statement).scalar_one()
    return float(moved)
