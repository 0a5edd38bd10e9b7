"""Submitting a request from the web: the same intake and the same onboarding as an email.

The form JSON goes through `parse_form` and intake's `admit`, so the same sender rules hold
(a sender who is not the company's contact is held for review); an admitted new request
starts the onboarding flow through `flows.launch`, in this process or on a worker.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from flows.launch import start_onboarding
from parsers.form import parse_form
from store import crud
from store.db import session_scope
from store.models import RequestState
from tasks.intake import admit, starts_a_run

logger = logging.getLogger(__name__)

Launch = Callable[[int], Awaitable["asyncio.Task[object] | None"]]


class Onboardings:
    """Starts onboardings and holds on to the in-process ones until they end.

    The event loop keeps only weak references to tasks: without `running` holding them, an
    onboarding could be garbage-collected mid-way. Failures are logged, never lost.
    """

    def __init__(self, launch: Launch = start_onboarding) -> None:
        self._launch = launch
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
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "The onboarding of request %s ended with an error; see its status",
                request_id,
                exc_info=task.exception(),
            )

    async def wait(self, timeout: float) -> None:
        """Let running onboardings finish for up to `timeout` s, then cancel the rest.

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


def form_json(*, company: str, contact_email: str, spots: Sequence[tuple[str, str | int]]) -> bytes:
    """The pipeline's form JSON, canonical, so the same request is the same bytes."""
    body: dict[str, Any] = {
        "company": company,
        "contact_email": contact_email,
        "spots": [{"location": location, "spot_id": spot_id} for location, spot_id in spots],
    }
    return json.dumps(body, separators=(",", ":")).encode()


async def submit_form(raw: bytes, *, onboardings: Onboardings) -> tuple[int, RequestState, bool]:
    """Store the request as intake decides and start it if admitted: (id, state, whether new).

    Raises `UnreadableInput` or `NotASpotIDRequest` if the JSON is not a request.
    """
    parsed = parse_form(raw)
    with session_scope() as session:
        request, created = admit(session, raw, parsed)
        request_id, state = request.id or 0, request.state
    if created and starts_a_run(state):
        await onboardings.start(request_id)
    return request_id, state, created
