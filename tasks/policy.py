"""What every task that calls HotSpot shares: its retry policy and its client.

`hotspot_client` is the one place a HotSpot client is built (tasks, the form's checks, hence the
CLI's and the benchmarks' runs): from the settings, with the transport and limiter set by
`wired_hotspot`, which tests and benchmarks use instead of patching.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from prefect import Task
from prefect.client.schemas.objects import State, TaskRun

from hotspot import HotSpotClient, HotSpotUnavailable, Limiter
from hotspot.throttle import key_id
from settings import Settings, settings
from store import crud
from store.db import session_scope

# HotSpot's Retry-After holds, shared by every process using this data dir (hotspot.holds).
HOLDS_FILE = "hotspot-holds.json"


def is_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a task only for HotSpot faults that outlived the client's own retries.

    The failed state holds the exception itself (`state.result()` would be a coroutine in
    an async task run, and never raise).
    """
    return isinstance(state.data, HotSpotUnavailable)


# The client already retries each call with backoff; these task retries are the second,
# slower layer, for an outage that outlasts a call's attempts.
HOTSPOT_TASK_RETRIES: dict[str, Any] = {
    "retries": len(settings.hotspot_task_retry_delays),
    "retry_delay_seconds": settings.hotspot_task_retry_delays,
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": is_transient,
}


class StorePace:
    """HotSpot's rate for every run of every worker sharing the store: each call takes the
    partner key's next slot there (one UPDATE, `crud.take_call_slot`) and waits for it, so
    calls go out evenly spaced at `HEADROOM` × the rate wherever they come from.

    Many processes on busy cores wake late now and then; a call sent late beside later ones
    sent on time puts one call too many in a second (a 429, and a Retry-After hold for every
    worker). So the shared pace keeps more headroom than one process's, and a caller that
    woke more than half an interval past its slot takes a new one instead of crowding the next.

    It replaced a Prefect global concurrency limit with slot decay: alone, a caller got 12.1
    acquisitions/s of a 19/s decay (each a round trip, a 423 and a jittered wait), and 50
    runs' acquisitions loaded the server the runs' states go through."""

    HEADROOM = 0.9  # 21 calls span 1.11 s: a call may be 0.1 s late without a 429
    # Slots are taken one after another anyway: one store connection per process does it, not
    # one per call in flight (runs × calls in flight exhausted PostgreSQL's connections).
    _one_at_a_time = threading.Lock()

    def __init__(self, key: str, *, rate: float, url: str) -> None:
        self.key, self.url = key, url
        self.interval = 1.0 / (self.HEADROOM * rate)

    async def acquire(self) -> None:
        for _ in range(3):  # woken late twice more: send anyway, the client handles a 429
            at = await asyncio.to_thread(self._take_slot)
            await asyncio.sleep(max(0.0, at - time.time()))
            if time.time() - at <= self.interval / 2:
                return

    async def hold(self, seconds: float) -> None:
        """No worker sends until Retry-After has passed."""
        await asyncio.to_thread(self._hold, time.time() + seconds)

    def _take_slot(self) -> float:
        with self._one_at_a_time, session_scope(self.url) as session:
            return crud.take_call_slot(
                session, key=self.key, interval=self.interval, now=time.time()
            )

    def _hold(self, until: float) -> None:
        with session_scope(self.url) as session:
            crud.hold_calls(session, key=self.key, until=until)


@dataclass(frozen=True)
class HotSpotWiring:
    """What every client is built with besides the settings; None: the network, and the pacing
    the settings ask for. A transport is made per client, since a client closes its own."""

    transport: Callable[[], httpx.AsyncBaseTransport] | None = None
    limiter: Limiter | None = None


_wiring = HotSpotWiring()


@contextmanager
def wired_hotspot(
    *,
    transport: Callable[[], httpx.AsyncBaseTransport] | None = None,
    limiter: Limiter | None = None,
) -> Iterator[None]:
    """Build every client of this process with this transport or limiter during the block."""
    global _wiring
    previous, _wiring = _wiring, HotSpotWiring(transport=transport, limiter=limiter)
    try:
        yield
    finally:
        _wiring = previous


def shared_limit(configured: Settings) -> Limiter | None:
    """HotSpot's rate across every process sharing the store, when HOTSPOT_RATE_LIMIT is set
    (unset, each process learns the limit alone and shares only Retry-After)."""
    if not configured.hotspot_rate_limit:
        return None
    key = key_id(configured.hotspot_api_url, configured.hotspot_partner_key.get_secret_value())
    return StorePace(key, rate=configured.hotspot_rate_limit, url=configured.resolved_database_url)


def hotspot_client(
    *, person_waiting: bool = False, configured: Settings | None = None
) -> HotSpotClient:
    """A client for the configured HotSpot, paced across workers when its rate is set.

    Every HotSpot call of the pipeline, the form's checks included, goes through here, so all
    share the partner key's rate limit and Retry-After; `person_waiting` only retries less.
    """
    configured = configured or settings
    if person_waiting:  # fewer, shorter attempts than a run's steps make
        configured = configured.model_copy(
            update={
                "hotspot_timeout_seconds": min(configured.hotspot_timeout_seconds, 5.0),
                "hotspot_max_attempts": 2,
                "hotspot_backoff_max_seconds": 1.0,
            }
        )
    return HotSpotClient(
        configured.hotspot_api_url,
        configured.hotspot_partner_key.get_secret_value(),
        transport=_wiring.transport() if _wiring.transport else None,
        timeout=configured.hotspot_timeout_seconds,
        max_attempts=configured.hotspot_max_attempts,
        backoff=configured.hotspot_backoff_seconds,
        backoff_max=configured.hotspot_backoff_max_seconds,
        max_concurrency=configured.hotspot_max_concurrency,
        rate_limit=configured.hotspot_rate_limit,
        limiter=_wiring.limiter or shared_limit(configured),
        holds_file=configured.data_dir / HOLDS_FILE,
    )


async def gather_all(calls: Iterable[Awaitable[object]]) -> None:
    """Run every call to its end, then raise the first error: one failure orphans no call."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
