"""The company token never appears in clear: not in logs, run parameters, or either database."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from prefect.client.orchestration import get_client
from sqlmodel import SQLModel

from settings import settings
from store.db import get_engine
from testing.demo import ACME_TOKEN
from tests.flows.test_onboard_request import form, onboard, submit


def everything_stored() -> str:
    """Every row of every table, as text."""
    with get_engine().connect() as connection:
        return "\n".join(
            repr(connection.execute(sa.select(table)).all())
            for table in SQLModel.metadata.sorted_tables
        )


async def test_token_never_in_clear(any_store, hotspot, give_token, caplog, capfd) -> None:
    caplog.set_level(logging.DEBUG)
    request_id = submit(form({"Lot A": "14283", "Lot B": "15320"}))
    assert (await onboard(request_id, verify_timeout=1)).state == "waiting_on_ops"
    give_token("Acme Parking", ACME_TOKEN)
    assert (await onboard(request_id)).state == "live"

    async with get_client() as client:
        runs = await client.read_flow_runs()
        logs = await client.read_logs()
    assert runs and logs
    assert ACME_TOKEN not in repr([run.parameters for run in runs])
    assert ACME_TOKEN not in "\n".join(log.message for log in logs)
    assert ACME_TOKEN not in caplog.text
    captured = capfd.readouterr()
    assert ACME_TOKEN not in captured.out + captured.err
    stored = everything_stored()
    assert "hotspot_token_encrypted" not in stored  # rows are values, not column names
    assert ACME_TOKEN not in stored
    if settings.resolved_database_url.startswith("sqlite"):
        get_engine().dispose()
        files = sorted(settings.data_dir.glob("store.db*"))
        assert files and all(ACME_TOKEN.encode() not in f.read_bytes() for f in files)
