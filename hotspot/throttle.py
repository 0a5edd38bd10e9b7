"""Process-wide pacing per HotSpot partner key: the Retry-After gate and the adaptive pacer.

HotSpot's `Retry-After` speaks for the whole partner key, so every client in this process that
uses the same (base URL, partner key) shares one `RetryAfterGate` and one `AdaptivePacer`; the
gate can also be shared by every process of the machine through a `HoldFile`. The registries
are keyed by a hash of the pair, never by the key itself.

These objects keep their state behind a `threading.Lock` and wait with `asyncio.sleep`, so they
work across event loops and threads. A cross-process limiter only needs `async def acquire()`
(the `Limiter` protocol) to be injected into `HotSpotClient(limiter=...)`.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from hotspot.holds import HoldFile


class Limiter(Protocol):
    """Anything that can hold a request back until it may be sent."""

    async def acquire(self) -> None:
        """Return when one request may be sent."""
        ...

    async def hold(self, seconds: float) -> None:
        """HotSpot said Retry-After: let no request through for `seconds`."""
        ...


class RetryAfterGate:
    """Holds every request for one partner key until HotSpot's last Retry-After has passed.

    With a `HoldFile` the hold is also written there, and holds other processes wrote are
    honoured: no process of this machine sends inside a window HotSpot announced to one.
    """

    def __init__(self, key: str = "", *, holds: HoldFile | None = None) -> None:
        self._lock = threading.Lock()
        self._open_at = 0.0
        self._key = key
        self.holds = holds

    def close_for(self, seconds: float) -> None:
        """Keep the gate shut for `seconds` from now (never shortens an earlier, longer hold)."""
        with self._lock:
            self._open_at = max(self._open_at, time.monotonic() + seconds)
        if self.holds is not None:
            self.holds.extend(self._key, time.time() + seconds)

    def remaining(self) -> float:
        """Seconds until the gate opens; 0 when it is open."""
        with self._lock:
            local = self._open_at - time.monotonic()
        shared = self.holds.until(self._key) - time.time() if self.holds is not None else 0.0
        return max(0.0, local, shared)

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


class AdaptivePacer:
    """Paces one partner key's requests just under the rate HotSpot allows, learning it if unset.

    With no configured rate the pace starts low and doubles every `DOUBLING_SECONDS` of successes
    (slow start). A 429 sets the estimate of HotSpot's limit to the lesser of the pace and the
    successes of the last second, and halves the pace (multiplicative decrease); successes then
    raise it quickly (additive increase) back to `HEADROOM` × the estimate and hold it there for
    a plateau (`PLATEAU_SECONDS`, doubled each time a probe finds the same limit, up to
    `MAX_PLATEAU_SECONDS`), after which it creeps up, faster each second, to find out whether the
    limit has grown. So a 429 is a rare probe, not the pacing signal, and the pace stays below a
    fixed window's edge.

    A configured rate (HOTSPOT_RATE_LIMIT) is a ceiling and the first estimate: pacing starts at
    `HEADROOM` of it and never goes above. `RateLimit-*` headers, when HotSpot sends
    them, set the estimate outright, and `remaining=0` holds every request until the reset.

    Requests wait on a grid of slots one interval apart (no bursts after idling); a caller whose
    slot fell inside a Retry-After hold or a slower pace begun meanwhile takes a new slot, so
    waiting requests never rush out together when a hold ends.
    """

    START_RATE = 10.0
    MIN_RATE = 0.2
    DOUBLING_SECONDS = 1.0
    DECREASE = 0.5
    HEADROOM = 0.95  # even pacing at this share of the limit fits in any one-second window
    RECOVERY = 1.0  # of the target per second, back up after a decrease
    PROBE = 0.02  # of the estimate per second, doubling each second of probing
    PLATEAU_SECONDS = 60.0
    MAX_PLATEAU_SECONDS = 300.0
    WINDOW = 1.0

    def __init__(
        self,
        *,
        ceiling: float = 0.0,
        gate: RetryAfterGate | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._gate = gate or RetryAfterGate()
        self._ceiling = 0.0
        self._estimate: float | None = None
        self._announced = False  # the estimate came from HotSpot's headers or the settings
        self._from_ceiling = False
        self._rate = self.START_RATE
        self._next_slot = 0.0
        self._blocked_until = 0.0
        self._changed_at = -math.inf  # the last decrease, hold or new estimate
        self._plateau = self.PLATEAU_SECONDS
        self._counted_from = -math.inf  # successes before this say nothing of HotSpot's window
        self._epoch = 0
        self._succeeded: deque[float] = deque()
        if ceiling > 0:
            self.set_ceiling(ceiling)

    @property
    def rate(self) -> float:
        """Requests per second this key is paced at now."""
        with self._lock:
            return self._rate

    @property
    def estimate(self) -> float | None:
        """HotSpot's limit as far as it is known (requests per second), or None."""
        with self._lock:
            return self._estimate

    def set_ceiling(self, ceiling: float) -> None:
        """Never pace above `ceiling` (HOTSPOT_RATE_LIMIT), also the first estimate; 0: no cap."""
        with self._lock:
            if ceiling == self._ceiling:
                return
            if self._from_ceiling:  # the old ceiling said nothing HotSpot did
                self._estimate, self._announced, self._from_ceiling = None, False, False
                self._rate = self.START_RATE
            self._ceiling = ceiling
            if ceiling > 0 and (self._estimate is None or self._estimate > ceiling):
                self._estimate, self._announced, self._from_ceiling = ceiling, True, True
                self._rate = self._target()

    def _cap(self) -> float:
        return self.HEADROOM * self._ceiling if self._ceiling else math.inf

    def _target(self) -> float:
        """The plateau: a little under the estimate, never above the configured ceiling."""
        assert self._estimate is not None
        return min(self._cap(), max(self.MIN_RATE, self.HEADROOM * self._estimate))

    async def acquire(self) -> None:
        """Return at this caller's slot, once no hold is in force."""
        while True:
            held = self._gate.remaining()  # may read the hold file: outside the lock
            with self._lock:
                now = self._clock()
                epoch = self._epoch
                slot = max(now + held, self._next_slot, self._blocked_until)
                self._next_slot = slot + 1.0 / self._rate
            if slot > now:
                await asyncio.sleep(slot - now)
            held = self._gate.remaining()
            with self._lock:
                if not held and epoch == self._epoch and self._clock() >= self._blocked_until:
                    return

    async def hold(self, seconds: float) -> None:
        """HotSpot said Retry-After: no request of this key goes for `seconds`."""
        self._gate.close_for(seconds)
        with self._lock:
            self._restart_slots()

    def _restart_slots(self) -> None:
        """Send every waiting caller for a new slot (called with the lock held)."""
        self._epoch += 1
        self._next_slot = 0.0

    def succeeded(self, sent_at: float) -> None:
        """A request sent at `sent_at` was answered without a 429: pace a little faster."""
        with self._lock:
            now = self._clock()
            self._succeeded.append(sent_at)
            _trim(self._succeeded, now - self.WINDOW)
            if self._estimate is None:  # slow start
                rate = self._rate * 2 ** (1.0 / (self._rate * self.DOUBLING_SECONDS))
            else:
                target = self._target()
                if self._rate < target:
                    rate = min(target, self._rate + self.RECOVERY * target / self._rate)
                elif self._announced or now - self._changed_at < self._plateau:
                    rate = target
                else:  # probe, gently at first: has HotSpot's limit grown?
                    probing = min(10.0, now - self._changed_at - self._plateau)
                    rate = self._rate + self.PROBE * self._estimate * 2**probing / self._rate
            # Grow only while requests use the pace: a pace no request uses proves nothing.
            busy = self.START_RATE + 2.0 * len(self._succeeded)
            self._rate = min(self._cap(), max(min(self._rate, rate), min(rate, busy)))

    def refused(self, sent_at: float, retry_after: float | None = None) -> None:
        """A request sent at `sent_at` got a 429: learn the limit from it and slow down.

        The estimate is the successes sent in the last `WINDOW`, but only since the last
        Retry-After ended (HotSpot's count began afresh about then), never more than the pace
        or the last estimate: exact for a sliding window, a little high for fixed windows and
        token buckets, which a later 429 corrects. Only the first 429 of requests sent after
        the last slow-down counts; the others were already in flight when it came.
        """
        with self._lock:
            now = self._clock()
            if sent_at < self._changed_at:
                return
            since = max(now - self.WINDOW, self._counted_from)
            counted = sum(1 for sent in self._succeeded if sent >= since)
            observed = min(self._rate, float(max(1, counted)))
            if self._estimate is not None and not self._announced:
                probed = now - self._changed_at >= self._plateau
                if probed and observed >= self.HEADROOM * self._estimate:  # the limit held
                    self._plateau = min(self.MAX_PLATEAU_SECONDS, 2 * self._plateau)
                else:
                    self._plateau = self.PLATEAU_SECONDS
                observed = min(observed, self._estimate)
            self._estimate, self._announced, self._from_ceiling = observed, False, False
            self._rate = max(self.MIN_RATE, min(self._cap(), self.DECREASE * observed))
            self._changed_at = now
            self._counted_from = now + (retry_after or 0.0)
            self._restart_slots()

    def announced(
        self, *, limit: float | None, remaining: float | None, reset: float | None
    ) -> None:
        """HotSpot's `RateLimit-*` headers: `limit` per `WINDOW`, `remaining` until `reset` s."""
        with self._lock:
            now = self._clock()
            if limit is not None and limit > 0 and limit != self._estimate:
                self._estimate, self._announced = limit / self.WINDOW, True
                self._from_ceiling = False
                self._rate = min(self._rate, self._target())
                self._changed_at = now
            if remaining is not None and remaining <= 0 and reset is not None and reset > 0:
                until = now + reset
                if until > self._blocked_until:
                    self._blocked_until = until
                    self._restart_slots()


def _trim(times: deque[float], before: float) -> None:
    """Drop the times older than `before` from the left of an ordered deque."""
    while times and times[0] < before:
        times.popleft()


_registry_lock = threading.Lock()
_gates: dict[str, RetryAfterGate] = {}
_pacers: dict[str, AdaptivePacer] = {}


def key_id(base_url: str, partner_key: str) -> str:
    """A stable, non-reversible name for a (base URL, partner key) pair."""
    return hashlib.sha256(f"{base_url}\0{partner_key}".encode()).hexdigest()


def shared_gate(key: str, holds_file: Path | None = None) -> RetryAfterGate:
    """The one gate of this process for the partner key named by `key_id`; shared with the
    other processes of the machine through `holds_file` once any client names one."""
    with _registry_lock:
        gate = _gates.setdefault(key, RetryAfterGate(key))
        if holds_file is not None and (gate.holds is None or gate.holds.path != holds_file):
            gate.holds = HoldFile(holds_file)
        return gate


def shared_pacer(key: str, *, ceiling: float = 0.0) -> AdaptivePacer:
    """The one pacer of this process for that partner key; `ceiling` > 0 caps its rate."""
    with _registry_lock:
        pacer = _pacers.get(key)
        if pacer is None:
            gate = _gates.setdefault(key, RetryAfterGate(key))
            pacer = _pacers[key] = AdaptivePacer(gate=gate)
    pacer.set_ceiling(ceiling)  # the settings are the same for every client but in tests
    return pacer
