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
    insert_or_nothing(session, HotSpotPace, key=key, next_at=0.0)
    next_at = col(HotSpotPace.next_at)
    statement = (
        sa.update(HotSpotPace)
        .where(col(HotSpotPace.key) == key)
        .values(next_at=sa.case((next_at > now, next_at), else_=now) + interval)
        .returning(next_at)
    )
    taken: float = session.execute(statement).scalar_one()
    return taken - interval


def hold_calls(session: Session, *, key: str, until: float) -> None:
    """No slot of the key before `until` (HotSpot's Retry-After); a later hold stands."""
    insert_or_nothing(session, HotSpotPace, key=key, next_at=0.0)
    next_at = col(HotSpotPace.next_at)
    session.execute(
        sa.update(HotSpotPace)
        .where(col(HotSpotPace.key) == key)
        .values(next_at=sa.case((next_at > until, next_at), else_=until))
    )
