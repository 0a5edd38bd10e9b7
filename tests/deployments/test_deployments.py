"""Against a real `prefect server start` (its database on the local PostgreSQL) and real
process workers: deploy from prefect.yaml, run to live, suspend for the token and resume
through the API, retry a failed run, and share HotSpot's rate limit across two workers."""

from __future__ import annotations

import asyncio
from collections import Counter

from prefect.client.orchestration import get_client
from prefect.flow_runs import aresume_flow_run, wait_for_flow_run
from prefect.input.actions import aread_flow_run_input
from prefect.states import Scheduled

from store import crud
from store.db import session_scope
from store.models import PermitState
from testing.demo import ACME_TOKEN
from testing.onboarding import launch, submit, wait_for_state
from testing.stack import DeployedStack
from tests.deployments.conftest import RATE


async def test_request_runs_to_live_on_a_worker(stack: DeployedStack, hotspot) -> None:
    worker = stack.add_worker("worker-1")
    request_id = submit({"Lot A": "14283", "Garage C": "16001"})

    run = await wait_for_flow_run(await launch(request_id), timeout=180)

    assert run.state.name == "Completed", run.state.message
    worker_log = worker.log_path.read_text() if worker.log_path else ""
    assert f"flow run {run.id} forked as pid" in worker_log  # a warm start (stack.warm)
    assert "starting cold" not in worker_log
    assert run.name == f"Acme Parking · request {request_id}"
    assert {"source:form", "company:Acme Parking"} <= set(run.tags)
    assert run.deployment_id is not None
    assert Counter(p["spot_id"] for p in hotspot.state()["permits"]) == {"14283": 1, "16001": 1}


async def test_suspended_for_the_token_then_resumed_through_the_api(
    stack: DeployedStack, hotspot
) -> None:
    stack.add_worker("worker-1")
    request_id = submit({"Lot A": "14283", "Lot B": "15320"})
    run_id = await launch(request_id)

    await wait_for_state(run_id, "Suspended")
    async with get_client() as client:
        workers = await client.read_workers_for_work_pool("hotspot-onboarding")
    assert workers  # the worker is free while the run waits for ops
    await aresume_flow_run(run_id, run_input={"token": ACME_TOKEN})
    run = await wait_for_flow_run(run_id, timeout=180)

    assert run.state.name == "Completed", run.state.message
    assert await aread_flow_run_input("suspended-token-0-response", flow_run_id=run_id) is None
    with session_scope() as session:
        company = crud.get_company_by_name(session, name="Acme Parking")
        assert company.hotspot_token_encrypted and ACME_TOKEN not in company.hotspot_token_encrypted
        assert crud.company_token(company) == ACME_TOKEN


async def test_failed_run_retried_through_the_api(stack: DeployedStack, hotspot) -> None:
    stack.add_worker("worker-1")
    hotspot.configure(error_rate=1.0)
    request_id = submit({"Lot A": "14283", "Lot D": "17777"})
    run_id = await launch(request_id)
    failed = await wait_for_flow_run(run_id, timeout=180)
    assert failed.state.is_failed()

    hotspot.configure(error_rate=0, lost_response_rate=0.3)
    async with get_client() as client:  # what the UI's Retry button does
        await client.set_flow_run_state(run_id, Scheduled(), force=True)
    run = await wait_for_flow_run(run_id, timeout=180)

    assert run.state.name == "Completed", run.state.message
    assert Counter(p["spot_id"] for p in hotspot.state()["permits"]) == {"14283": 1, "17777": 1}
    with session_scope() as session:
        for spot in ("14283", "17777"):
            [permit] = crud.permits_for_spot(session, spot_id=spot)
            assert permit.state == PermitState.revoked


async def test_two_workers_stay_within_hotspot_rate_limit(stack: DeployedStack, hotspot) -> None:
    hotspot.configure(rate_limit=RATE)
    stack.add_worker("worker-1")
    stack.add_worker("worker-2")
    request_ids = [
        submit({"Lot A": "14283"}),
        submit({"Garage C": "16001"}),
        submit({"Lot D": "17777"}),
        submit({"Riverside P1": "18000"}, sender="ops@harbor.example", company="Harbor Lots"),
    ]
    run_ids = [await launch(request_id) for request_id in request_ids]

    runs = await asyncio.gather(*(wait_for_flow_run(r, timeout=240) for r in run_ids))

    assert [run.state.name for run in runs] == ["Completed"] * len(runs)
    state = hotspot.state()
    assert state["rate_limited"] == 0
    assert state["max_requests_in_one_second"] <= RATE
    assert {run.infrastructure_pid is not None for run in runs} == {True}


async def test_held_request_approved_in_the_ui(stack: DeployedStack, hotspot) -> None:
    stack.add_worker("worker-1")
    request_id = submit({"Lot A": "14283"}, sender="newcomer@gmail.example")
    run_id = await launch(request_id)

    await wait_for_state(run_id, "Suspended")
    assert hotspot.state()["permits"] == []  # nothing applied before ops decide
    await aresume_flow_run(
        run_id, run_input={"decision": "approve", "company": "Acme Parking", "note": "known"}
    )
    run = await wait_for_flow_run(run_id, timeout=180)

    assert run.state.name == "Completed", run.state.message


async def test_unknown_location_is_chosen_in_the_ui(stack: DeployedStack, hotspot) -> None:
    stack.add_worker("worker-1")
    request_id = submit({"Lot A": "14283", "Back lot": "17777"})
    run_id = await launch(request_id)

    await wait_for_state(run_id, "Suspended")
    await aresume_flow_run(run_id, run_input={"location_0": "Lot D"})
    run = await wait_for_flow_run(run_id, timeout=180)

    assert run.state.name == "Completed", run.state.message
    with session_scope() as session:
        lines = crud.request_spots(session, request_id=request_id)
    assert [(line.location, line.spot_id) for line in lines] == [
        ("Lot A", "14283"),
        ("Lot D", "17777"),
    ]


async def test_unconfirmed_operator_is_confirmed_in_the_ui(stack: DeployedStack, hotspot) -> None:
    stack.add_worker("worker-1")
    request_id = submit(
        {"Riverside P2": "16001"}, sender="ops@harbor.example", company="Harbor Lots"
    )
    run_id = await launch(request_id)

    await wait_for_state(run_id, "Suspended")
    assert hotspot.state()["permits"] == []  # nothing applied before ops decide
    await aresume_flow_run(run_id, run_input={"operator_0": "Add it to the company's operators"})
    run = await wait_for_flow_run(run_id, timeout=180)

    assert run.state.name == "Completed", run.state.message
    with session_scope() as session:
        harbor = crud.get_company_by_name(session, name="Harbor Lots")
        assert harbor.hotspot_operators == ["Riverside Lots", "Northgate Parking"]
