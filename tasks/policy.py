"""What every task that calls HotSpot shares: its retry policy and its client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any

from prefect import Task
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from hotspot import HotSpotClient, HotSpotUnavailable
from settings import settings


def is_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a task only for HotSpot faults that outlived the client's own retries.

    The failed state holds the exception itself (`state.result()` would be a coroutine in
    an async task run, and never raise).
    """
    return isinstance(state.data, HotSpotUnavailable)


# The client already retries each call with backoff; these task retries are the second,
# slower layer, for an outage that outlasts a call's attempts.
HOTSPOT_TASK_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [5, 15, 45],
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": is_transient,
}


def hotspot_client() -> HotSpotClient:
    """A client for the configured HotSpot (the real API or the sandbox)."""
    return HotSpotClient.from_settings(settings)


async def gather_all(calls: Iterable[Awaitable[object]]) -> None:
    """Run every call to its end, then raise the first error: one failure orphans no call."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
