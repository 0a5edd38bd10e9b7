"""The token link with deployed runs: the customer's token resumes the suspended run on a
worker (one request, one run), as `token` on the command line does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import get_client

from settings import settings
from stack.prefect import ONBOARDING_DEPLOYMENT, asyncpg_url
from store import crud
from store.db import session_scope
from store.models import RequestState
from testing.databases import throwaway_postgres
from testing.demo import ACME_TOKEN
from testing.stack import DeployedStack, deployed_stack
from tests.deployments.conftest import QUICK, RATE
from tests.deployments.test_control_plane import hotspot_onboard, request_file, runs_of
from tests.servers.smtp import SmtpCapture
from tests.web.conftest import csrf_of
from tests.web.test_token_link import token_link_mail
from web.app import create_app


@pytest.fixture
def mailing_stack(  # type: ignore[no-untyped-def]
    store, hotspot, smtp_capture: SmtpCapture, tmp_path: Path, monkeypatch
) -> Iterator[DeployedStack]:
    """The deployment tests' stack, its workers sending mail to the SMTP capture."""
    smtp = {
        "SMTP_HOST": smtp_capture.host,
        "SMTP_PORT": str(smtp_capture.port),
        "SMTP_SECURITY": "none",
    }
    with (
        throwaway_postgres() as url,
        deployed_stack(
            home=tmp_path / "prefect",
            logs=tmp_path,
            hotspot_url=hotspot.url,
            rate=RATE,
            database_url=asyncpg_url(url),
            env=QUICK | smtp,
        ) as deployed,
    ):
        monkeypatch.setattr(settings, "onboarding_deployment", ONBOARDING_DEPLOYMENT)
        monkeypatch.setattr(settings, "hotspot_api_url", hotspot.url)
        yield deployed


async def test_the_customers_token_resumes_the_deployed_run(
    mailing_stack: DeployedStack, smtp_capture: SmtpCapture, tmp_path
) -> None:
    mailing_stack.add_worker("worker-1")
    spots = request_file(tmp_path, {"Lot A": "14283", "Lot B": "15320"})
    waiting = hotspot_onboard(mailing_stack, "onboard", spots)
    assert waiting.returncode == 4, waiting.stdout + waiting.stderr
    [run] = await runs_of(1)
    assert run.state.name == "Suspended"
    path, _ = token_link_mail(smtp_capture)

    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get(path)
        given = await client.post(
            path, data={"csrf_token": csrf_of(page.text), "hotspot_token": ACME_TOKEN}
        )
        assert given.status_code == 200 and "token received" in given.text

    # The same run goes on, on the worker, to Completed: no second run, nothing left Suspended.
    async with get_client() as client:
        for _ in range(240):
            run = await client.read_flow_run(run.id)
            if run.state is not None and run.state.is_final():
                break
            await asyncio.sleep(0.5)
    assert run.state is not None and run.state.is_completed(), run.state
    assert [r.id for r in await runs_of(1)] == [run.id]
    with session_scope() as session:
        assert crud.get_request(session, request_id=1).state == RequestState.live
