"""One control plane: the CLI, with a server configured, drives the same deployed run ops see
in the UI; its answers resume that run, and runs end in Prefect's own states."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName, LogFilter
from prefect.input.actions import acreate_flow_run_input, aread_flow_run_input

from store import crud
from store.db import session_scope
from testing.cli import CLI
from testing.demo import ACME_TOKEN
from testing.stack import DeployedStack


def hotspot_onboard(
    stack: DeployedStack, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """The command as ops type it in a shell where `make up`'s settings are exported."""
    return subprocess.run(
        [CLI, *args], env=stack.env, input=stdin, capture_output=True, text=True, timeout=300
    )


def request_file(tmp_path: Path, spots: dict[str, str], sender: str = "jane@acme.example") -> str:
    path = tmp_path / f"request-{len(list(tmp_path.glob('request-*')))}.json"
    body = {
        "company": "Acme Parking",
        "contact_email": sender,
        "spots": [{"location": location, "spot_id": spot} for location, spot in spots.items()],
    }
    path.write_text(json.dumps(body))
    return str(path)


async def runs_of(request_id: int) -> list:  # type: ignore[type-arg]
    """Every flow run of the request (runs are named for it; each test has its own server)."""
    name = f"Acme Parking · request {request_id}"
    async with get_client() as client:
        return await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
        )


async def test_cli_answers_resume_the_deployed_run(stack: DeployedStack, hotspot, tmp_path) -> None:
    stack.add_worker("worker-1")
    spots = request_file(tmp_path, {"Lot A": "14283", "Lot B": "15320"})

    waiting = hotspot_onboard(stack, "onboard", spots)

    assert waiting.returncode == 4, waiting.stdout + waiting.stderr
    assert "is Suspended" in waiting.stderr  # followed until it waits on ops
    [run] = await runs_of(1)
    assert run.deployment_id is not None and run.state.name == "Suspended"
    assert {"source:form", "company:Acme Parking", "outcome:waiting_on_ops"} <= set(run.tags)

    given = hotspot_onboard(stack, "token", "Acme Parking", stdin=ACME_TOKEN + "\n")

    assert given.returncode == 0, given.stdout + given.stderr
    assert ACME_TOKEN not in given.stdout + given.stderr
    [run] = await runs_of(1)  # the same run, resumed: one request, one run
    assert run.state.is_completed() and "outcome:live" in run.tags
    with session_scope() as session:
        assert crud.get_request(session, request_id=1).flow_run_id == str(run.id)

    # An answer typed in the UI after the command line answered: logged as ignored, removed.
    late = "suspended-token-0-response"
    await acreate_flow_run_input(late, {"token": "too-late"}, flow_run_id=run.id)
    assert hotspot_onboard(stack, "retry", "1").returncode == 0
    assert await aread_flow_run_input(late, flow_run_id=run.id) is None
    async with get_client() as client:
        logs = await client.read_logs(LogFilter(flow_run_id={"any_": [run.id]}))
    assert any("Ignored an answer (suspended-token-0-response)" in log.message for log in logs)


async def test_held_request_run_asks_and_approve_resolves_it(
    stack: DeployedStack, hotspot, tmp_path
) -> None:
    stack.add_worker("worker-1")
    spots = request_file(tmp_path, {"Lot A": "14283"}, sender="newcomer@gmail.example")

    held = hotspot_onboard(stack, "onboard", spots)

    assert held.returncode == 4, held.stdout + held.stderr
    [run] = await runs_of(1)
    assert run.state.name == "Suspended"  # the approval question is open in the UI
    assert hotspot.state()["permits"] == []

    approved = hotspot_onboard(stack, "approve", "1")

    assert approved.returncode == 0, approved.stdout + approved.stderr
    [run] = await runs_of(1)
    assert run.state.is_completed()


async def test_reject_on_the_command_line_ends_the_suspended_run(
    stack: DeployedStack, hotspot, tmp_path
) -> None:
    stack.add_worker("worker-1")
    spots = request_file(tmp_path, {"Lot A": "14283"}, sender="newcomer@gmail.example")
    assert hotspot_onboard(stack, "onboard", spots).returncode == 4

    rejected = hotspot_onboard(stack, "reject", "1", "--reason", "not a customer")

    assert rejected.returncode == 0, rejected.stdout + rejected.stderr
    [run] = await runs_of(1)
    assert run.state.is_failed() and "outcome:rejected" in run.tags
    assert "rejected by ops: not a customer" in (run.state.message or "")
