"""HotSpot's pace in the store: callers at once each get a slot of their own, one interval
apart (the database decides, on SQLite and PostgreSQL); an idle key builds no backlog; a
Retry-After hold moves the next slot past it and is never shortened."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from store import crud
from store.db import session_scope

KEY = "partner-key-hash"
INTERVAL = 0.05


def take(now: float, key: str = KEY) -> float:
    with session_scope() as session:
        return crud.take_call_slot(session, key=key, interval=INTERVAL, now=now)


def test_callers_at_once_each_get_their_own_slot(store_url: str) -> None:
    callers, each = 4, 10
    start = Barrier(callers)

    def caller() -> list[float]:
        start.wait()
        return [take(now=1000.0) for _ in range(each)]

    with ThreadPoolExecutor(callers) as pool:
        slots = sorted(s for taken in pool.map(lambda _: caller(), range(callers)) for s in taken)

    assert slots == pytest.approx([1000.0 + n * INTERVAL for n in range(callers * each)])


def test_an_idle_key_builds_no_backlog_and_keys_are_apart(store_url: str) -> None:
    assert take(now=10.0) == 10.0
    assert take(now=10.0) == pytest.approx(10.05)
    assert take(now=50.0) == 50.0  # not 10.10: time unused is not saved up for a burst
    assert take(now=50.0, key="another-partner-key") == 50.0


def test_a_hold_moves_the_next_slot_past_retry_after(store_url: str) -> None:
    assert take(now=100.0) == 100.0
    with session_scope() as session:
        crud.hold_calls(session, key=KEY, until=105.0)
    with session_scope() as session:
        crud.hold_calls(session, key=KEY, until=103.0)  # an earlier, shorter hold
    assert take(now=101.0) == 105.0
    assert take(now=101.0) == pytest.approx(105.05)
