"""A request's one flow run, as Prefect's API sees it: read it, start it again, follow it.

Every way of continuing a request (the CLI's `retry`, an answer given on the command line, a
token that lets other requests go on) starts the request's existing run again, as the UI's
Retry button does, instead of making a second run: one request, one run, one truth.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import ObjectNotFound
from prefect.states import Crashed, Scheduled

FOLLOW_POLL_SECONDS = 1.0


async def read_run(run_id: str | None) -> FlowRun | None:
    """The run, or None when there is none (never started, or another Prefect server's)."""
    if not run_id:
        return None
    async with get_client() as client:
        try:
            return await client.read_flow_run(uuid.UUID(run_id))
        except (ObjectNotFound, ValueError):
            return None


def is_at_rest(run: FlowRun) -> bool:
    """Ended, or waiting on a person (paused or suspended): nothing happens until someone acts."""
    return run.state is not None and (run.state.is_final() or run.state.is_paused())


async def start_again(run: FlowRun) -> None:
    """Schedule the run to go again from the top (the UI's Retry and Resume do the same)."""
    async with get_client() as client:
        await client.set_flow_run_state(run.id, Scheduled(), force=True)


async def mark_crashed(run: FlowRun, why: str) -> None:
    """Say in Prefect what the store knows: the run died (its process stopped renewing)."""
    async with get_client() as client:
        await client.set_flow_run_state(run.id, Crashed(message=why), force=True)


async def resume_to_recheck(run_id: str | None) -> None:
    """A deployed run suspended on a question answered elsewhere: let it go on (a worker
    starts it again, and it reads the answer from the store)."""
    run = await read_run(run_id)
    if run is not None and run.deployment_id and run.state and run.state.is_paused():
        await start_again(run)


async def follow(
    run_id: uuid.UUID, *, on_change: Callable[[FlowRun], None] = lambda run: None
) -> FlowRun:
    """Wait until the run is at rest; `on_change` hears each state it passes through."""
    seen: StateType | None = None
    async with get_client() as client:
        while True:
            run = await client.read_flow_run(run_id)
            if run.state and run.state.type != seen:
                seen = run.state.type
                on_change(run)
            if is_at_rest(run):
                return run
            await asyncio.sleep(FOLLOW_POLL_SECONDS)


async def tag_outcome(run_id: str, outcome: str) -> None:
    """Tag the run with its business outcome (`outcome:live`, `outcome:waiting_on_ops`, ...),
    replacing the last one, so the runs list filters by it."""
    async with get_client() as client:
        run = await client.read_flow_run(uuid.UUID(run_id))
        tags = [tag for tag in run.tags if not tag.startswith("outcome:")]
        await client.update_flow_run(run.id, tags=[*tags, f"outcome:{outcome}"])
