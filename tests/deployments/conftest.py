"""A real `prefect server` (its database on the local PostgreSQL) with the project deployed,
and the worker processes a test adds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from cli.up import (
    background,
    prepare_server,
    server_command,
    stack_environment,
    wait_for_api,
    worker_command,
)
from hotspot.sandbox_process import free_port
from settings import PROJECT_DIR, settings
from tests.utils.databases import throwaway_postgres

ACME_TOKEN = (PROJECT_DIR / "demo/acme-hotspot-token.txt").read_text().strip()
RATE = 10.0


class Stack:
    """The server's URL and environment, and a way to add workers."""

    def __init__(self, api_url: str, env: dict[str, str], logs: Path, exits: ExitStack) -> None:
        self.api_url, self.env, self.logs, self._exits = api_url, env, logs, exits

    def add_worker(self, name: str) -> None:
        self._exits.enter_context(
            background(worker_command(name), env=self.env, log=self.logs / f"{name}.log")
        )


@pytest.fixture
def stack(store, hotspot, tmp_path: Path, monkeypatch) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    """A Prefect server on a throwaway PostgreSQL database, with the project deployed."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    with throwaway_postgres() as url, ExitStack() as exits:
        env = stack_environment(api_url=api_url, hotspot_url=hotspot.url, rate=RATE) | {
            "PREFECT_HOME": str(tmp_path / "prefect"),
            "PREFECT_API_DATABASE_CONNECTION_URL": url.replace("+psycopg", "+asyncpg"),
            "VERIFY_TIMEOUT_SECONDS": "3",
            "VERIFY_FIRST_POLL_SECONDS": "0.2",
            "HOTSPOT_TASK_RETRY_DELAYS": "[0.2, 0.2]",
            "HOTSPOT_BACKOFF_SECONDS": "0.05",
        }
        exits.enter_context(background(server_command(port), env=env, log=tmp_path / "srv.log"))
        wait_for_api(api_url)
        prepare_server(env=env, rate=RATE)
        monkeypatch.setattr(settings, "onboarding_deployment", env["ONBOARDING_DEPLOYMENT"])
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            yield Stack(api_url, env, tmp_path, exits)
