"""Throwaway databases: a SQLite file, or a fresh database on the local PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from settings import settings
from store.db import engine_for


@contextmanager
def throwaway_postgres(prefix: str = "hotspot_test") -> Iterator[str]:
    """Create a uniquely named database on TEST_POSTGRES_ADMIN_URL's server, yield its URL
    (psycopg), drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(settings.test_postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(settings.test_postgres_admin_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        engine_for(url.render_as_string(hide_password=False)).dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of the given kind ('sqlite' or 'postgresql')."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        with throwaway_postgres() as url:
            yield url
