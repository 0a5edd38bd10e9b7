"""A Prefect server on a throwaway PostgreSQL database with the project deployed, as
`make up` starts it (stack), for every test that needs deployed runs and workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from settings import settings
from stack.prefect import ONBOARDING_DEPLOYMENT, asyncpg_url
from testing.databases import throwaway_postgres
from testing.stack import DeployedStack, deployed_stack

RATE = 10.0
# Quick enough to wait for: the token question comes after 3 s of polling.
QUICK = {
    "VERIFY_TIMEOUT_SECONDS": "3",
    "VERIFY_FIRST_POLL_SECONDS": "0.2",
    "HOTSPOT_TASK_RETRY_DELAYS": "[0.2, 0.2]",
    "HOTSPOT_BACKOFF_SECONDS": "0.05",
}


@pytest.fixture
def stack(store, hotspot, tmp_path: Path, monkeypatch) -> Iterator[DeployedStack]:  # type: ignore[no-untyped-def]
    """A Prefect server on a throwaway PostgreSQL database, with the project deployed."""
    with (
        throwaway_postgres() as url,
        deployed_stack(
            home=tmp_path / "prefect",
            logs=tmp_path,
            hotspot_url=hotspot.url,
            rate=RATE,
            database_url=asyncpg_url(url),
            env=QUICK,
        ) as deployed,
    ):
        monkeypatch.setattr(settings, "onboarding_deployment", ONBOARDING_DEPLOYMENT)
        yield deployed
