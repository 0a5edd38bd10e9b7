"""What every task that calls HotSpot shares: its retry policy and its client.

`hotspot_client` is the one place a HotSpot client is built (tasks, the form's checks, hence the
CLI's and the benchmarks' runs): from the settings, with the transport and limiter set by
`wired_hotspot`, which tests and benchmarks use instead of patching.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from prefect import Task
from prefect.client.schemas.objects import State, TaskRun
from prefect.concurrency.asyncio import rate_limit

from hotspot import HotSpotClient, HotSpotUnavailable, Limiter
from settings import Settings, settings

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


class PrefectRateLimit:
    """HotSpot's rate limit for every run on every worker: a Prefect global concurrency
    limit of one slot with slot decay (`prefect gcl create NAME --limit 1
    --slot-decay-per-second R`): each call waits for the slot, so calls go out evenly spaced."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._held_until = 0.0

    async def acquire(self) -> None:
        await rate_limit(self.name, strict=True)

    async def hold(self, seconds: float) -> None:
        """Occupy the slot until Retry-After has passed, so no worker sends meanwhile."""
        until = time.monotonic() + seconds
        if until <= self._held_until:
            return  # another request of this process already holds the key
        self._held_until = until
        while time.monotonic() < until:
            await rate_limit(self.name, strict=True)


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
    """HotSpot's rate limit across workers, when HOTSPOT_GLOBAL_RATE_LIMIT names one."""
    if not configured.hotspot_global_rate_limit:
        return None
    return PrefectRateLimit(configured.hotspot_global_rate_limit)


def hotspot_client(
    *, person_waiting: bool = False, configured: Settings | None = None
) -> HotSpotClient:
    """A client for the configured HotSpot, paced across workers when a shared limit is set.

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
