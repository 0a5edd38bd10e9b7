"""The store's engine, sessions and schema migrations (Alembic, on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlmodel import Session

from settings import settings
from store.files import private_file

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@cache
def engine_for(url: str) -> sa.Engine:
    """One engine per database URL, configured for several processes sharing SQLite."""
    if url.startswith("sqlite"):
        database = sa.make_url(url).database
        if database and database != ":memory:":
            # Made 0600 before SQLite opens it: its -wal and -shm files take the same mode.
            private_file(Path(database))
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def get_engine() -> sa.Engine:
    return engine_for(settings.resolved_database_url)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session (on the store at `url`, the configured one by default) whose work is
    committed on success and rolled back on any error."""
    with Session(engine_for(url) if url else get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url or settings.resolved_database_url)
    return config


def migrate(url: str | None = None) -> None:
    """Bring the store's schema to the latest migration (safe to call on every start)."""
    command.upgrade(alembic_config(url), "head")
