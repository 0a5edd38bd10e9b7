"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL: a
column added to a model without its migration (or the other way round) fails here."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from store.db import get_engine


def test_the_migrated_schema_is_the_models(store_url: str) -> None:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_an_unmigrated_store_differs(tmp_path: Path) -> None:
    """The comparison can fail: an empty database is missing every table."""
    with sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}").connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    missing = {d[1].name for d in differences if d[0] == "add_table"}
    assert missing == set(SQLModel.metadata.tables)
