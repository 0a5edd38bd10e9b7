"""Requests taken in as the web form does, their onboardings started as intake does, and the
runs followed through the Prefect API: for the deployment tests and the screenshot script."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from uuid import UUID

from prefect.client.orchestration import get_client

from flows.launch import start_onboarding
from parsers import parse_any
from parsers.form import form_json
from store import crud
from store.db import session_scope
from store.schemas import CompanyIn
from tasks.intake import admit


def bench_company(locations: Iterable[str]) -> CompanyIn:
    """Bench Co, whose locations are the sandbox's bench stalls (operator Bench Parking)."""
    return CompanyIn(
        name="Bench Co",
        contacts=["ops@bench.example"],
        locations=list(locations),
        hotspot_operators=["Bench Parking"],
    )


def submit(
    spots: dict[str, str], *, sender: str = "jane@acme.example", company: str = "Acme Parking"
) -> int:
    """Store a form request (location → SpotID) as the web form would; its request id."""
    raw = form_json(company=company, contact_email=sender, spots=list(spots.items()))
    with session_scope() as session:
        request, _ = admit(session, raw, parse_any(raw))
        assert request.id is not None
        return request.id


async def launch(request_id: int) -> UUID:
    """Start the request's onboarding (a deployed run with ONBOARDING_DEPLOYMENT); its run id."""
    await start_onboarding(request_id)
    with session_scope() as session:
        return UUID(crud.get_request(session, request_id=request_id).flow_run_id)


async def wait_for_state(run_id: UUID, *names: str, timeout: float = 180) -> str:
    """Poll the run until its state's name is one of `names`; that name. A run that ends in
    another state fails at once, with its message."""
    async with get_client() as client:
        for _ in range(int(timeout * 2)):
            run = await client.read_flow_run(run_id)
            if run.state and run.state.name in names:
                return run.state.name
            if run.state and run.state.is_final():
                raise AssertionError(f"run {run_id} ended {run.state.name}: {run.state.message}")
            await asyncio.sleep(0.5)
    raise AssertionError(f"run {run_id} never reached {' or '.join(names)}: {run.state}")
