"""The adaptive pacer: its AIMD rules on a fake clock, then clients against fake HotSpots
(httpx.MockTransport) that limit requests by fixed one-second windows, as real gateways do."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from pathlib import Path

import httpx
import pytest

from hotspot import HotSpotClient, HotSpotRateLimited
from hotspot.holds import HoldFile
from hotspot.throttle import AdaptivePacer, RetryAfterGate, key_id, shared_gate, shared_pacer

SPOT = {
    "spot_id": "14283",
    "name": "Lot A",
    "operator": "Northgate Parking",
    "timezone": "America/Toronto",
    "active": True,
    "requires_company_token": False,
}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def send_at_pace(pacer: AdaptivePacer, clock: Clock, seconds: float) -> int:
    """Requests sent one pace interval apart for `seconds`, all succeeding; how many."""
    sent, end = 0, clock.now + seconds
    while clock.now < end:
        clock.now += 1 / pacer.rate
        pacer.succeeded(clock.now)
        sent += 1
    return sent


def test_slow_start_doubles_the_pace_while_calls_succeed() -> None:
    clock = Clock()
    pacer = AdaptivePacer(clock=clock)
    assert pacer.rate == AdaptivePacer.START_RATE and pacer.estimate is None
    send_at_pace(pacer, clock, 1.0)
    assert 1.6 * AdaptivePacer.START_RATE <= pacer.rate <= 2.5 * AdaptivePacer.START_RATE


def test_a_429_sets_the_estimate_and_halves_the_pace_once_for_requests_in_flight() -> None:
    clock = Clock()
    pacer = AdaptivePacer(clock=clock)
    send_at_pace(pacer, clock, 2.0)
    in_flight = clock.now - 0.01
    pacer.refused(clock.now)
    estimate = pacer.estimate
    assert estimate is not None and pacer.rate == pytest.approx(0.5 * estimate)
    pacer.refused(in_flight)  # sent before the slow-down: no second decrease
    assert pacer.rate == pytest.approx(0.5 * estimate)


def test_the_pace_recovers_to_a_plateau_under_the_estimate_then_probes() -> None:
    clock = Clock()
    pacer = AdaptivePacer(clock=clock)
    for _ in range(40):  # 40 successes in the last second, then a 429
        clock.now += 0.025
        pacer.succeeded(clock.now)
    pacer.refused(clock.now, 1.0)
    assert pacer.estimate == pytest.approx(pacer.rate * 2) and pacer.rate <= 20
    estimate = pacer.estimate
    send_at_pace(pacer, clock, 3.0)
    assert pacer.rate == pytest.approx(AdaptivePacer.HEADROOM * estimate)
    send_at_pace(pacer, clock, AdaptivePacer.PLATEAU_SECONDS - 3.5)
    assert pacer.rate == pytest.approx(AdaptivePacer.HEADROOM * estimate)  # still on it
    send_at_pace(pacer, clock, 3.0)
    assert pacer.rate > estimate  # probing whether the limit grew
    pacer.refused(clock.now, 1.0)  # it did not: the next plateau is twice as long
    assert pacer.estimate == pytest.approx(estimate)
    clock.now += 1.0
    send_at_pace(pacer, clock, AdaptivePacer.PLATEAU_SECONDS + 5)
    assert pacer.rate == pytest.approx(AdaptivePacer.HEADROOM * estimate)


def test_a_configured_rate_is_a_ceiling_never_exceeded() -> None:
    clock = Clock()
    pacer = AdaptivePacer(ceiling=20, clock=clock)
    assert pacer.rate == pytest.approx(AdaptivePacer.HEADROOM * 20)
    send_at_pace(pacer, clock, 30.0)
    assert pacer.rate == pytest.approx(AdaptivePacer.HEADROOM * 20)
    pacer.refused(clock.now)  # HotSpot allows less than configured: learn it
    assert pacer.estimate is not None and pacer.estimate <= 20
    send_at_pace(pacer, clock, 60.0)
    assert pacer.rate <= AdaptivePacer.HEADROOM * 20


async def test_rate_limit_headers_set_the_estimate_and_remaining_zero_holds_until_reset() -> None:
    pacer = AdaptivePacer()
    pacer.announced(limit=30, remaining=7, reset=0.5)
    assert pacer.estimate == 30 and pacer.rate <= AdaptivePacer.HEADROOM * 30
    pacer.announced(limit=30, remaining=0, reset=0.3)
    started = time.monotonic()
    await pacer.acquire()
    assert time.monotonic() - started >= 0.28


async def test_waiting_callers_take_new_slots_after_a_hold_instead_of_rushing_out() -> None:
    pacer = AdaptivePacer(ceiling=20)
    sent: list[float] = []

    async def one() -> None:
        await pacer.acquire()
        sent.append(time.monotonic())

    waiting = [asyncio.create_task(one()) for _ in range(6)]
    await asyncio.sleep(0.01)
    await pacer.hold(0.3)
    await asyncio.gather(*waiting)
    after = sorted(t for t in sent if t - sent[0] >= 0.25)
    gaps = [b - a for a, b in zip(after, after[1:], strict=False)]
    assert after and all(gap >= 1 / 20 - 0.01 for gap in gaps)


def fixed_window(limit: int, *, headers: bool = False) -> tuple[httpx.MockTransport, list[int]]:
    """A fake HotSpot admitting `limit` requests per fixed one-second window (429 and
    `Retry-After: 1` beyond), optionally announcing `RateLimit-*`; and its answers' statuses."""
    statuses: list[int] = []
    window = {"start": math.floor(time.monotonic()), "count": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        now = time.monotonic()
        if math.floor(now) != window["start"]:
            window["start"], window["count"] = math.floor(now), 0
        reset = f"{window['start'] + 1 - now:.3f}"
        refused = window["count"] >= limit
        window["count"] += not refused
        announce = {"RateLimit-Limit": str(limit), "RateLimit-Reset": reset} if headers else {}
        announce |= {"RateLimit-Remaining": str(limit - window["count"])} if headers else {}
        statuses.append(429 if refused else 200)
        if refused:
            body = {"error": "rate_limited", "message": "slow down"}
            return httpx.Response(429, json=body, headers={"Retry-After": "1", **announce})
        return httpx.Response(200, json=SPOT, headers=announce)

    return httpx.MockTransport(answer), statuses


async def bulk(transport: httpx.MockTransport, calls: int, *, rate_limit: float = 0) -> float:
    """`calls` spot reads by one client of a fresh key, 8 at a time; the seconds they took."""
    key = f"pk-{uuid.uuid4().hex}"
    started = time.monotonic()
    async with HotSpotClient(
        "https://hotspot.test", key, transport=transport, rate_limit=rate_limit, backoff=0.05
    ) as hotspot:
        await asyncio.gather(*(hotspot.get_spot("14283") for _ in range(calls)))
    return time.monotonic() - started


async def test_unconfigured_pacing_learns_a_fixed_window_limit_with_rare_429s() -> None:
    transport, statuses = fixed_window(40)
    took = await bulk(transport, 200)
    refused = statuses.count(429)
    assert refused <= 0.03 * len(statuses), statuses
    assert took <= 2 * 200 / 40  # slow start and one Retry-After included, on a shared machine


async def test_a_configured_rate_stays_under_a_fixed_window_without_429s() -> None:
    transport, statuses = fixed_window(40)
    took = await bulk(transport, 120, rate_limit=40)
    assert statuses.count(429) <= 1  # 0 but for an event-loop stall right at a window's edge
    assert 119 / 40 <= took <= 1.3 * 120 / 40


async def test_announced_limits_are_paced_to_without_429s() -> None:
    transport, statuses = fixed_window(40, headers=True)
    await bulk(transport, 120)
    assert statuses.count(429) <= 1  # at most the first contact


async def test_a_429_on_every_try_is_still_raised_after_the_attempts() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        body = {"error": "rate_limited", "message": "no"}
        return httpx.Response(429, json=body, headers={"Retry-After": "0.05"})

    transport = httpx.MockTransport(refuse)
    async with HotSpotClient(
        "https://hotspot.test", f"pk-{uuid.uuid4().hex}", transport=transport, max_attempts=2
    ) as hotspot:
        with pytest.raises(HotSpotRateLimited):
            await hotspot.get_spot("14283")


def test_every_client_of_a_key_shares_one_pacer_and_gate() -> None:
    key = key_id("https://hotspot.test", f"pk-{uuid.uuid4().hex}")
    pacer = shared_pacer(key, ceiling=10)
    assert pacer is shared_pacer(key, ceiling=10)
    assert pacer.rate == pytest.approx(AdaptivePacer.HEADROOM * 10)
    assert shared_pacer(key).estimate is None  # a ceiling gone says nothing of HotSpot
    assert shared_gate(key) is shared_gate(key)


def test_the_hold_file_keeps_holds_per_hashed_key_and_never_the_key(tmp_path: Path) -> None:
    partner_key = f"pk-SECRET-{uuid.uuid4().hex}"
    key = key_id("https://hotspot.test", partner_key)
    path = tmp_path / "data" / "holds.json"
    first = RetryAfterGate(key, holds=HoldFile(path))
    other_process = RetryAfterGate(key, holds=HoldFile(path))
    other_key = RetryAfterGate("another", holds=HoldFile(path))
    first.close_for(0.5)
    assert 0.4 < other_process.remaining() <= 0.5 and other_key.remaining() == 0
    other_process.close_for(0.1)  # never shortens the longer hold
    assert first.remaining() > 0.3
    assert partner_key not in path.read_text() and path.stat().st_mode & 0o777 == 0o600
    path.write_text("not json")  # a spoilt file costs the shared holds, not the run
    third_process = RetryAfterGate(key, holds=HoldFile(path))
    assert third_process.remaining() == 0
    first.close_for(0.2)
    assert third_process.remaining() > 0.1


async def test_x_ratelimit_headers_with_a_unix_reset_hold_the_next_request() -> None:
    sent: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(time.monotonic())
        reset = f"{time.time() + 0.3:.3f}"  # as some APIs send it: a Unix time
        headers = {"X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "0"}
        return httpx.Response(200, json=SPOT, headers={**headers, "X-RateLimit-Reset": reset})

    key = f"pk-{uuid.uuid4().hex}"
    async with HotSpotClient(
        "https://hotspot.test", key, transport=httpx.MockTransport(answer)
    ) as hotspot:
        await hotspot.get_spot("14283")
        await hotspot.get_spot("14283")
    assert sent[1] - sent[0] >= 0.25
    assert shared_pacer(key_id("https://hotspot.test", key)).estimate == 30
