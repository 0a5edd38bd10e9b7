"""One run per request at a time: a lease in the store, taken by compare-and-set.

A run takes its request's lease before its first step and renews it while alive; a second run
of the same request (another worker, a CLI command in another shell) finds it held and stops,
saying which run holds it. A run that dies (SIGKILL, a lost machine) stops renewing, its lease
lapses, and the next run takes the request over; `status` calls such a request interrupted.
A run that loses its lease (it was frozen longer than the lease) is cancelled, so it never
writes over what the newer run found.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid

from prefect import get_run_logger, task
from prefect.runtime import flow_run

from settings import settings
from store import crud
from store.db import session_scope
from store.models import RequestState
from tasks.permits import withdraw_test_permits

HOST = socket.gethostname()


class RequestBusy(Exception):
    """Another run holds the request's lease."""

    def __init__(self, request_id: int, holder: str, until: object) -> None:
        run_id = holder.partition("/")[0]
        super().__init__(
            f"request {request_id} is being worked on by flow run {run_id} (its hold runs "
            f"until {until}); this run stops and leaves it to that one"
        )
        self.holder_run_id = run_id


def died_here(holder: str) -> bool:
    """Whether the holder ran on this machine and its process is gone."""
    _, host, pid, _ = (holder.split("/") + ["", "", ""])[:4]
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


class RequestLease:
    """`async with RequestLease(request_id):` — the request is this run's until the block ends."""

    def __init__(self, request_id: int) -> None:
        self.request_id = request_id
        # The run, and this process on this machine: a second process executing the same run
        # is another owner, and a holder on this machine whose process is gone is known dead.
        self.owner = f"{flow_run.id}/{HOST}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._renewer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RequestLease:
        await asyncio.to_thread(self._take_or_raise)
        self._renewer = asyncio.create_task(self._renew(asyncio.current_task()))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        with session_scope() as session:
            crud.release_lease(session, request_id=self.request_id, owner=self.owner)

    def _take_or_raise(self, *, from_dead: str | None = None) -> None:
        with session_scope() as session:
            held = crud.take_lease(
                session,
                request_id=self.request_id,
                owner=self.owner,
                seconds=settings.run_lease_seconds,
                from_dead=from_dead,
            )
            holder, until = (held.lease_owner, held.lease_expires_at) if held else (None, None)
        if holder is None:
            return
        if from_dead is None and died_here(holder):
            # A run killed on this machine (SIGKILL, a closed terminal): no need to wait for
            # its lease to lapse.
            self._take_or_raise(from_dead=holder)
            return
        raise RequestBusy(self.request_id, holder, until)

    async def _renew(self, run: asyncio.Task[object] | None) -> None:
        """Renew every third of the lease; if another run took it meanwhile, stop this one."""
        while True:
            await asyncio.sleep(settings.run_lease_seconds / 3)
            try:
                await asyncio.to_thread(self._take_or_raise)
            except RequestBusy as busy:
                get_run_logger().error("Lost the request to another run: %s", busy)
                if run is not None:
                    run.cancel()
                return
            except Exception as exc:  # the store is unreachable for a moment: try again soon
                get_run_logger().warning("Could not renew the hold on the request: %s", exc)


@task(name="settle-interrupted-requests")
async def settle_interrupted_requests() -> list[int]:
    """Requests whose run died at work: marked `failed` with why and how to go on, their
    lease freed, their test permits withdrawn; their ids."""
    with session_scope() as session:
        settled = []
        for request in crud.interrupted_requests(session):
            seen = request.run_last_seen_at
            crud.set_request_state(
                session,
                request=request,
                state=RequestState.failed,
                reason=f"interrupted: its run stopped at work (last seen {seen:%Y-%m-%d %H:%M:%S} "
                f"UTC); `hotspot-onboard retry {request.id}` continues it",
            )
            crud.release_lease(session, request_id=request.id or 0, owner=request.lease_owner or "")
            settled.append(request.id or 0)
    for request_id in settled:
        await withdraw_test_permits(request_id)
    return settled
