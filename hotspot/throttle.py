"""Process-wide pacing per HotSpot partner key: the Retry-After gate and a token bucket.

HotSpot's `Retry-After` speaks for the whole partner key, so every client in this process that
uses the same (base URL, partner key) shares one `RetryAfterGate` and, when a rate is set, one
`TokenBucket`. The registries are keyed by a hash of the pair, never by the key itself.

Both objects keep their state behind a `threading.Lock` and wait with `asyncio.sleep`, so they
work across event loops and threads. A cross-process limiter only needs `async def acquire()`
(the `Limiter` protocol) to be injected into `HotSpotClient(limiter=...)`.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from typing import Protocol


class Limiter(Protocol):
    """Anything that can hold a request back until it may be sent."""

    async def acquire(self) -> None:
        """Return when one request may be sent."""
        ...

    async def hold(self, seconds: float) -> None:
        """HotSpot said Retry-After: let no request through for `seconds`."""
        ...


class RetryAfterGate:
    """Holds every request for one partner key until HotSpot's last Retry-After has passed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_at = 0.0

    def close_for(self, seconds: float) -> None:
        """Keep the gate shut for `seconds` from now (never shortens an earlier, longer hold)."""
        with self._lock:
            self._open_at = max(self._open_at, time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds until the gate opens; 0 when it is open."""
        with self._lock:
            return max(0.0, self._open_at - time.monotonic())

    async def wait(self) -> None:
        """Return once the gate is open, re-checking in case it was closed again meanwhile."""
        while (remaining := self.remaining()) > 0:
            await asyncio.sleep(remaining)


class TokenBucket:
    """At most `rate` requests per second, in bursts of at most `burst`.

    Each caller reserves the next free slot under a lock and then sleeps until it, so waiting
    callers are served in arrival order without an asyncio lock tied to one event loop.
    """

    def __init__(self, rate: float, *, burst: float = 1.0) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take one token (possibly going into debt) and return how long to wait for it."""
        with self._lock:
            now = time.monotonic()
            elapsed = now - self._updated
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
            self._updated = now
            self._tokens -= 1
            return max(0.0, -self._tokens / self._rate)

    async def acquire(self) -> None:
        """Return when this caller's token is due."""
        wait = self._reserve()
        if wait > 0:
            await asyncio.sleep(wait)

    async def hold(self, seconds: float) -> None:
        """Go into debt by `seconds` worth of tokens, so the next ones wait that long."""
        with self._lock:
            self._tokens = min(self._tokens, -seconds * self._rate)  # holds do not add up


_registry_lock = threading.Lock()
_gates: dict[str, RetryAfterGate] = {}
_buckets: dict[tuple[str, float], TokenBucket] = {}


def key_id(base_url: str, partner_key: str) -> str:
    """A stable, non-reversible name for a (base URL, partner key) pair."""
    return hashlib.sha256(f"{base_url}\0{partner_key}".encode()).hexdigest()


def shared_gate(key: str) -> RetryAfterGate:
    """The one gate of this process for the partner key named by `key_id`."""
    with _registry_lock:
        return _gates.setdefault(key, RetryAfterGate())


def shared_bucket(key: str, rate: float) -> TokenBucket:
    """The one token bucket of this process for that partner key and rate."""
    with _registry_lock:
        bucket = _buckets.get((key, rate))
        if bucket is None:
            bucket = _buckets[(key, rate)] = TokenBucket(rate)
        return bucket
