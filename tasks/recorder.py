"""What a step learns from HotSpot, written to the store in batches, off the event loop.

A step that makes hundreds of HotSpot calls records each answer (a permit issued, seen,
revoked). Committed one by one on the event loop, those writes stall it (each commit is an
fsync on SQLite): every call waiting meanwhile then goes out at once, and the bursts trip
HotSpot's rate limit. `Recorder` commits the writes together, in a worker thread, a moment
after they are made, and always before the step ends.

Only answers HotSpot already gave are recorded this way, never what must be on file before a
call (a permit's row and external_id are written before it is pushed): if the process dies
before a batch is committed, the next run repeats those calls, and each is idempotent (the
same external_id returns the same permit, revoking twice changes nothing, a lookup is a read).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from sqlmodel import Session

from store import crud
from store.db import session_scope
from store.models import NOT_YET_VERIFIED, MappingState

Write = Callable[[Session], None]


class Recorder:
    """`async with Recorder() as record:` then `record(write)`; committed every `every` s."""

    def __init__(self, *, every: float = 0.25, batch: int = 200) -> None:
        self._every, self._batch = every, batch
        self._pending: list[Write] = []
        self._due = asyncio.Event()
        self._lock = asyncio.Lock()
        self._closing = False
        self._flusher: asyncio.Task[None] | None = None

    def __call__(self, write: Write) -> None:
        """Queue one write (a function of the session); it is committed soon."""
        self._pending.append(write)
        if len(self._pending) >= self._batch:
            self._due.set()

    async def __aenter__(self) -> Recorder:
        self._flusher = asyncio.create_task(self._flush_regularly())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Never cancel a commit under way: the next step must read what this one wrote.
        self._closing = True
        self._due.set()
        if self._flusher is not None:
            await self._flusher
        await self.flush()  # what HotSpot did is recorded even when the step fails

    async def flush(self) -> None:
        """Commit every queued write now, in one transaction."""
        async with self._lock:
            writes, self._pending = self._pending, []
            if writes:
                await asyncio.to_thread(_commit, writes)

    async def _flush_regularly(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self._every)
            self._due.clear()
            await self.flush()


def _commit(writes: list[Write]) -> None:
    with session_scope() as session:
        for write in writes:
            write(session)


def set_permit(permit_id: int, **changes: object) -> Write:
    """A write: the test permit's state and fields as HotSpot answered."""

    def write(session: Session) -> None:
        crud.update_permit(session, permit=crud.get_permit(session, permit_id=permit_id), **changes)

    return write


def set_mapping(mapping_id: int, state: MappingState, reason: str | None = None) -> Write:
    """A write: the mapping's state, and why; only while its TEST123 is not yet seen, so an
    answer arriving late never moves a mapping another run already verified or made live."""

    def write(session: Session) -> None:
        crud.set_mapping_state(
            session, mapping_id=mapping_id, state=state, reason=reason, expected=NOT_YET_VERIFIED
        )

    return write
