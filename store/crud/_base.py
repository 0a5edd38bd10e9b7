"""What every part of the store shares: this store's id, the key location names are compared
by, and the SQL helpers that let the database decide races (insert or nothing, rows changed).
"""

from __future__ import annotations

import re
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, select

from store.models import StoreIdentity


def location_key(name: str) -> str:
    """The form location names are compared in: case and spacing never matter."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def store_id(session: Session) -> str:
    """This store's identity (made by its first migration run)."""
    identity = session.exec(select(StoreIdentity)).first()
    assert identity is not None, "migrations create the store's identity"
    return identity.id


def insert_or_nothing(session: Session, model: type[SQLModel], **values: object) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (any unique constraint); True if a row was inserted."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    return session.execute(statement).first() is not None


def rows_changed(result: sa.Result[Any]) -> int:
    """How many rows an UPDATE changed: sqlmodel types `Session.execute` as returning a plain
    Result, which for an UPDATE is a CursorResult."""
    return cast(sa.CursorResult[Any], result).rowcount
