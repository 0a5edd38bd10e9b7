"""Step 5's polling: a permit is seen soon after it shows, with few enforcement lookups."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from settings import settings
from store import crud
from store.db import session_scope
from tasks.verify import lookup_waits, status_poll_wait
from tests.flows.test_onboard_request import form, onboard, submit


def test_status_is_polled_within_a_tenth_of_the_time_waited() -> None:
    assert status_poll_wait(0) == pytest.approx(settings.verify_lag_seconds)
    assert status_poll_wait(20) == pytest.approx(
        settings.verify_lag_seconds + 20 * settings.verify_lag_fraction
    )
    assert status_poll_wait(10_000) == settings.verify_max_poll_interval_seconds


def test_lookups_back_off_up_to_the_cap() -> None:
    waits = lookup_waits()
    first = [next(waits) for _ in range(30)]
    assert first[0] == settings.verify_first_poll_seconds
    assert first == sorted(first)
    assert first[-1] == settings.verify_max_poll_interval_seconds


async def test_a_slow_permit_is_seen_soon_with_few_lookups(
    store, hotspot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "verify_first_poll_seconds", 0.5)
    monkeypatch.setattr(settings, "verify_max_poll_interval_seconds", 10.0)
    delay = 4.0
    hotspot.configure(delay=delay)

    outcome = await onboard(submit(form({"Lot A": "14283"})))

    assert outcome.state == "live", outcome.reason
    state = hotspot.state()
    assert state["lookups"]["14283"] == 1  # only once HotSpot said it is active
    assert state["requests"]["GET /v1/permits/{permit_id}"]["200"] >= 2
    [shown] = state["permits"]
    with session_scope() as session:
        [permit] = crud.permits_for_spot(session, spot_id="14283")
    assert permit.visible_at is not None
    lag = permit.visible_at - datetime.fromisoformat(shown["visible_at"])
    assert timedelta(0) <= lag <= timedelta(seconds=0.1 * delay + 1)


async def test_at_the_timeout_the_verdict_rests_on_hotspot_not_on_a_busy_machine(
    store, hotspot
) -> None:
    """Every HotSpot answer slow (as on a loaded machine): the status is still asked at the
    timeout, so a permit that needs the company token is judged so, not left unexplained."""
    hotspot.configure(latency=0.6)

    outcome = await onboard(submit(form({"Lot B": "15320"})), verify_timeout=1)

    assert outcome.state == "waiting_on_ops", outcome.reason
    assert "company token" in outcome.reason


def status_polls(hotspot) -> int:  # type: ignore[no-untyped-def]
    return sum(hotspot.state()["requests"].get("GET /v1/permits/{permit_id}", {}).values())


async def test_permits_pushed_together_follow_the_last_one_pushed(store, hotspot) -> None:
    hotspot.configure(delay=3.0)

    outcome = await onboard(submit(form({"Lot A": "14283", "Garage C": "16001"})))

    assert outcome.state == "live", outcome.reason
    assert hotspot.state()["lookups"] == {"14283": 1, "16001": 1}  # once each, when propagated
    # One permit's status is polled, not each one's: at most one poll every half second or so.
    assert status_polls(hotspot) <= 7


async def test_the_usual_propagation_delay_is_learned_from_the_store(store, hotspot) -> None:
    delay = 6.0
    hotspot.configure(delay=delay)

    first = await onboard(submit(form({"Lot A": "14283"})))
    unknown = status_polls(hotspot)  # from VERIFY_FIRST_POLL_SECONDS, every half second or so
    with session_scope() as session:
        [learned] = crud.recent_propagation_delays(session, limit=10)
    second = await onboard(submit(form({"Garage C": "16001"})))
    known = status_polls(hotspot) - unknown

    assert first.state == second.state == "live"
    assert delay <= learned <= delay + 0.1 * delay + 3  # caught by a status poll, soon after
    assert unknown >= 5  # about every half second from the first second (8 on an idle machine)
    assert known <= 4  # from 80% of the usual delay: 2 or 3
