"""Running a request's onboarding: its one flow run, on a worker or in this process.

With ONBOARDING_DEPLOYMENT set (a Prefect server with workers), each request's onboarding is a
flow run of that deployment, created with the request's key as idempotency key, so asking
twice never makes two runs; continuing the request (a retry, an answer on the command line)
starts that same run again, as the UI's Retry button does. Without it (embedded defaults), the
flow runs in this process, and continuing a request runs its recorded flow run again when the
Prefect API still knows it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun, State
from prefect.deployments import arun_deployment
from prefect.exceptions import TerminationSignal
from prefect.flow_engine import run_flow_async

from flows.onboard_request import onboard_request, request_run_name
from flows.runs import follow, mark_crashed, read_run, start_again
from settings import settings
from store import crud
from store.db import session_scope
from store.models import RequestState
from tasks.intake import deployed

logger = logging.getLogger(__name__)


async def start_onboarding(request_id: int) -> asyncio.Task[object] | None:
    """Start the request's run without waiting for it: the in-process run's task, or None
    when a worker runs it. Held requests get a deployed run too, which asks ops to approve."""
    if not deployed():
        # Prefect types an async flow's call as an Awaitable; it is a coroutine.
        run = onboard_request(request_id, return_state=True)
        return asyncio.create_task(run)  # type: ignore[arg-type]
    await _deployed_run(request_id, verify_timeout=None)
    return None


async def run_until_at_rest(
    request_id: int,
    verify_timeout: float | None,
    *,
    on_change: Callable[[FlowRun], None] = lambda run: None,
) -> State[Any] | None:
    """Start or continue the request's one run, wait until it ends or waits on a person; the
    state it is left in."""
    if not deployed():
        return await _run_in_process(request_id, verify_timeout)
    run = await _deployed_run(request_id, verify_timeout=verify_timeout)
    return (await follow(run.id, on_change=on_change)).state


async def _deployed_run(request_id: int, *, verify_timeout: float | None) -> FlowRun:
    """The request's deployed run, started again if it is at rest, or created."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        key, source, run_id = request.key, request.source.value, request.flow_run_id
        names = crud.company_names(session, company_ids=[request.company_id or 0])
        interrupted, last_seen = request.interrupted, request.run_last_seen_at
    run = await read_run(run_id)
    if run is not None and run.state is not None and run.state.is_running() and interrupted:
        # Prefect still says Running, but the run stopped renewing its hold: it is dead.
        await mark_crashed(run, f"its process stopped at work (last seen {last_seen})")
        run = await read_run(run_id)
    if run is not None and run.deployment_id is not None:
        if verify_timeout is not None:
            parameters = {**run.parameters, "verify_timeout": verify_timeout}
            async with get_client() as client:
                await client.update_flow_run(run.id, parameters=parameters)
        if run.state is None or run.state.is_final() or run.state.is_paused():
            await start_again(run)
        return run
    run = await arun_deployment(
        settings.onboarding_deployment,
        parameters={"request_id": request_id, "verify_timeout": verify_timeout},
        idempotency_key=f"onboard:{key}",
        flow_run_name=request_run_name(request_id),  # named in the UI before a worker starts it
        tags=[f"source:{source}", f"company:{names.get(request.company_id or 0, 'unknown')}"],
        timeout=0,
        # Its own top-level run, even when started from a flow (the watcher, a proposals run):
        # Prefect cannot suspend a subflow, so a child run could never ask ops in the UI.
        as_subflow=False,
    )
    with session_scope() as session:
        crud.set_flow_run(
            session,
            request=crud.get_request(session, request_id=request_id),
            flow_run_id=str(run.id),
        )
    return run


async def _run_in_process(request_id: int, verify_timeout: float | None) -> State[Any]:
    """Run the flow here: the request's recorded run again if the API knows it, else a new one."""
    with session_scope() as session:
        run_id = crud.get_request(session, request_id=request_id).flow_run_id
    run = await read_run(run_id)
    if run is None or run.deployment_id is not None:
        return await onboard_request(request_id, verify_timeout, return_state=True)
    await start_again(run)
    async with get_client() as client:
        run = await client.read_flow_run(run.id)
    parameters = {"request_id": request_id, "verify_timeout": verify_timeout}
    # Prefect's signature wants a sync flow, and says it may return None; with
    # return_type="state" it runs async flows too and always returns the final State.
    return await run_flow_async(  # type: ignore[return-value]
        onboard_request,  # type: ignore[arg-type]
        flow_run=run,
        parameters=parameters,
        return_type="state",
    )


Launch = Callable[[int], Awaitable["asyncio.Task[object] | None"]]


class Onboardings:
    """Starts onboardings and holds on to the in-process ones until they end (the web app's
    and the watcher's).

    The event loop keeps only weak references to tasks: without `running` holding them, an
    onboarding could be garbage-collected mid-way. Failures are logged, never lost. Prefect
    turns SIGTERM into an exception in whatever code the main thread runs, so it may end one
    onboarding instead of the process that started it: `on_signal` is then called with the
    signal, for that process to stop as if the signal had reached it.
    """

    def __init__(
        self,
        launch: Launch = start_onboarding,
        *,
        on_signal: Callable[[int], None] | None = None,
    ) -> None:
        self._launch = launch
        self._on_signal = on_signal
        # Running onboardings and the request each is for.
        self.running: dict[asyncio.Task[object], int] = {}

    async def start(self, request_id: int) -> None:
        """Start the request's onboarding; if it cannot even start, mark the request failed."""
        try:
            task = await self._launch(request_id)
        except Exception as exc:
            logger.exception("Could not start the onboarding of request %s", request_id)
            with session_scope() as session:
                request = crud.get_request(session, request_id=request_id)
                crud.set_request_state(
                    session,
                    request=request,
                    state=RequestState.failed,
                    reason=f"the onboarding could not be started ({type(exc).__name__}: "
                    f"{exc}); start it with `hotspot-onboard retry {request_id}`",
                )
            return
        if task is not None:
            self.running[task] = request_id
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[object]) -> None:
        request_id = self.running.pop(task, None)
        stopped = None if task.cancelled() else task.exception()
        if isinstance(stopped, TerminationSignal) and self._on_signal is not None:
            self._on_signal(stopped.signal)
        elif stopped is not None:
            logger.error(
                "The onboarding of request %s ended with an error; see its status",
                request_id,
                exc_info=task.exception(),
            )

    async def wait(self, timeout: float | None) -> None:
        """Let running onboardings finish for up to `timeout` s (None: to their end), then
        cancel the rest.

        A cancelled run leaves its request to be continued with `hotspot-onboard retry`.
        """
        if not self.running:
            return
        logger.info("Waiting up to %.0f s for %d onboardings", timeout, len(self.running))
        _, pending = await asyncio.wait(set(self.running), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
