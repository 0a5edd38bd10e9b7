"""Running a request from the command line: the same run ops see in the Prefect UI, followed
until it ends or waits on a person, its outcome printed, and the exit code scripts read.

Exit codes: 0 done (live), 1 refused or failed (the reason is printed), 2 input unreadable,
3 not a SpotID request, 4 waiting on ops (what is needed and the command that continues),
5 another run is working on the request right now (the message names it).
"""

from __future__ import annotations

import asyncio

from prefect.client.schemas.objects import FlowRun
from rich.console import Console

from cli.output import print_outcome
from store import crud
from store.db import session_scope
from store.models import Phase, RequestState

EXIT_DONE, EXIT_REFUSED, EXIT_UNREADABLE, EXIT_NOT_A_REQUEST, EXIT_WAITING = 0, 1, 2, 3, 4
EXIT_BUSY = 5  # another run is at work on the request: follow that one
EXIT_BY_PHASE = {Phase.done: EXIT_DONE, Phase.waiting: EXIT_WAITING}


def exit_code(state: RequestState) -> int:
    """What a script reads of where the request stands: anything else is refused or failed."""
    return EXIT_BY_PHASE.get(state.phase, EXIT_REFUSED)


def run_onboarding(
    out: Console, err: Console, request_id: int, verify_timeout: float | None
) -> int:
    """Start or continue the request's run, print where the request stands; the exit code."""
    from flows.launch import run_until_at_rest

    def say(run: FlowRun) -> None:
        state = run.state.name if run.state else "unknown"
        err.print(f"Request {request_id}: run '{run.name}' is {state}", markup=False)

    state = asyncio.run(run_until_at_rest(request_id, verify_timeout, on_change=say))
    if state is not None and state.is_cancelled():
        err.print(state.message or f"request {request_id}'s run was cancelled", markup=False)
        return EXIT_BUSY
    with session_scope() as session:
        outcome = crud.request_outcome(session, request_id=request_id)
    print_outcome(out, outcome)
    return exit_code(outcome.state)
