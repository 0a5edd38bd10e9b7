from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from settings import settings
from store.db import migrate
from testing.databases import database


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch) -> Iterator[str]:
    """The store on a fresh, migrated database: once on SQLite, once on PostgreSQL."""
    with database(request.param, tmp_path) as url:
        monkeypatch.setattr(settings, "database_url", url)
        monkeypatch.setattr(settings, "data_dir", tmp_path)
        migrate()
        yield url
