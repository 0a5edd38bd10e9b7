"""A worker and its run killed outright (SIGKILL, as a lost machine): Prefect's heartbeat-based
crash detection marks the run Crashed, and sending the request again finishes it."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from uuid import UUID

import httpx
from prefect.client.orchestration import get_client
from prefect.flow_runs import wait_for_flow_run

from flows.launch import start_onboarding
from settings import settings
from stack.automations import configure_notifications
from stack.prefect import ONBOARDING_DEPLOYMENT
from stack.process import stop_tree
from store import crud
from store.db import session_scope
from testing.onboarding import launch, submit
from testing.stack import DeployedStack

# Heartbeats every 30 s (the stack's RUN_HEARTBEAT_SECONDS): silent for 90 s means dead; the
# automation service evaluates proactive triggers on a schedule, so allow some more.
CRASH_NOTICED_WITHIN = 3 * settings.run_heartbeat_seconds + 90


async def test_a_killed_worker_run_is_marked_crashed_and_finished_by_resubmission(
    stack: DeployedStack, hotspot
) -> None:
    async with get_client() as client:
        await configure_notifications(client, settings, deployment=ONBOARDING_DEPLOYMENT)
    worker = stack.add_worker("worker-1")
    hotspot.configure(spot_read_barrier=2)  # the run waits 30 s at its first spot read
    request_id = submit({"Lot A": "14283"})
    run_id = await launch(request_id)
    await wait_for_lease(request_id)
    await wait_for_heartbeat(stack, run_id)  # it said it is alive once: a run at work

    stop_tree(worker.pid, timeout=0, sig=signal.SIGKILL)  # the worker and the run's process

    crashed = await wait_for_state_type(run_id, "CRASHED", timeout=CRASH_NOTICED_WITHIN)
    assert "stopped sending heartbeats" in (crashed.state.message or "")

    hotspot.configure(spot_read_barrier=0)
    stack.add_worker("worker-2")
    await start_onboarding(request_id)  # the same request sent again (the form, an email)
    run = await wait_for_flow_run(run_id, timeout=240)

    assert run.state.is_completed(), run.state.message  # the same run, finished
    with session_scope() as session:
        assert crud.get_request(session, request_id=request_id).state.value == "live"
    assert Counter(p["spot_id"] for p in hotspot.state()["permits"]) == {"14283": 1}


async def wait_for_lease(request_id: int, timeout: float = 120) -> None:
    for _ in range(int(timeout * 5)):
        with session_scope() as session:
            if crud.get_request(session, request_id=request_id).lease_owner:
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"request {request_id}'s run never took its lease")


async def wait_for_heartbeat(stack: DeployedStack, run_id: UUID, timeout: float = 120) -> None:
    query = {
        "filter": {
            "event": {"name": ["prefect.flow-run.heartbeat"]},
            "resource": {"id": [f"prefect.flow-run.{run_id}"]},
        },
        "limit": 1,
    }
    async with httpx.AsyncClient(base_url=stack.server.api_url) as api:
        for _ in range(int(timeout)):
            if (await api.post("/events/filter", json=query)).json().get("events"):
                return
            await asyncio.sleep(1)
    raise AssertionError(f"run {run_id} sent no heartbeat within {timeout:.0f} s")


async def wait_for_state_type(run_id: UUID, state_type: str, *, timeout: float):  # type: ignore[no-untyped-def]
    async with get_client() as client:
        for _ in range(int(timeout)):
            run = await client.read_flow_run(run_id)
            if run.state and run.state.type.value == state_type:
                return run
            await asyncio.sleep(1)
    raise AssertionError(f"run {run_id} not {state_type} within {timeout:.0f} s: {run.state}")
