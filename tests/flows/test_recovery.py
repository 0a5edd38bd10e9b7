"""Every run ends, and a retry always finishes: late permits, timeouts, leftovers, overlaps."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

import flows.onboard_request as onboard_request_module
from flows.sweep_test_permits import sweep_test_permits
from store import crud
from store.db import session_scope
from store.models import MappingState, OnboardingRequest, PermitState, TestPermit, utcnow
from testing.cli import run_cli, start_cli
from tests.flows.test_onboard_request import form, onboard, permits_by_spot, submit


def hotspot_permits(sandbox) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each permit at the sandbox: its status as HotSpot reports it."""
    return {p["permit_id"]: p["status"] for p in sandbox.state()["permits"]}


async def test_a_permit_that_shows_late_is_found_by_retry(store, hotspot) -> None:
    hotspot.configure(delay=5)  # HotSpot propagates slower than the run waits
    request_id = submit(form({"Lot A": "14283"}))

    first = await onboard(request_id, verify_timeout=1)

    assert first.state == "failed"
    assert "has not propagated TEST123" in (first.spots[0].reason or "")
    assert list(hotspot_permits(hotspot).values()) == ["accepted"]  # left out, not revoked
    time.sleep(5)  # the permit shows at HotSpot meanwhile

    again = await onboard(request_id, verify_timeout=10)

    assert again.state == "live", again.reason
    assert permits_by_spot(hotspot) == Counter({"14283": 1})  # found, not pushed again


async def test_a_run_that_times_out_leaves_no_active_permit(store, hotspot) -> None:
    # 15320 needs Acme's token: without it, HotSpot says the permit is active, but
    # enforcement never shows it.
    outcome = await onboard(submit(form({"Lot B": "15320"})), verify_timeout=2)

    assert outcome.state == "waiting_on_ops"
    assert "(revoked)" in (outcome.spots[0].reason or "")
    assert list(hotspot_permits(hotspot).values()) == ["revoked"]
    with session_scope() as session:
        [permit] = crud.permits_for_spot(session, spot_id="15320")
        assert permit.state == PermitState.revoked


async def test_the_sweep_revokes_a_permit_left_out_past_its_validity(store, hotspot) -> None:
    hotspot.configure(delay=30)
    request_id = submit(form({"Lot A": "14283"}))
    assert (await onboard(request_id, verify_timeout=1)).state == "failed"
    with session_scope() as session:  # as if the run was killed an hour ago
        session.execute(update(TestPermit).values(end_time=utcnow() - timedelta(minutes=1)))

    swept = await sweep_test_permits()

    assert [p.spot_id for p in swept] == ["14283"]
    assert list(hotspot_permits(hotspot).values()) == ["revoked"]
    with session_scope() as session:
        [permit] = crud.permits_for_spot(session, spot_id="14283")
        assert permit.state == PermitState.revoked
    assert await sweep_test_permits() == []  # nothing left the second time


def test_the_sweep_command(store, hotspot) -> None:
    swept = run_cli("sweep", hotspot_url=hotspot.url)
    assert swept.returncode == 0, swept.stderr
    assert "0 test permits revoked." in swept.stdout


def test_a_second_run_of_a_request_at_work_stops_naming_the_first(
    any_store, hotspot, tmp_path: Path
) -> None:
    # The first run holds its lease and waits 30 s at its spot read (a second read would open
    # the barrier, but the second run never gets that far): long enough on a busy machine.
    hotspot.configure(spot_read_barrier=2)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(json.loads(form({"Lot A": "14283"}))))
    first = start_cli("onboard", str(request), hotspot_url=hotspot.url, log=tmp_path / "1.log")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not lease_taken():
        time.sleep(0.2)

    second = run_cli("onboard", str(request), hotspot_url=hotspot.url)

    assert second.returncode == 5, second.stdout + second.stderr
    assert "is being worked on by flow run" in second.stderr
    assert first.wait(timeout=240) == 0, (tmp_path / "1.log").read_text()
    with session_scope() as session:
        [request_row] = crud.list_requests(session)
        assert request_row.state.value == "live" and request_row.lease_owner is None
    assert permits_by_spot(hotspot) == Counter({"14283": 1})


def lease_taken() -> bool:
    with session_scope() as session:
        return any(r.lease_owner for r in crud.list_requests(session))


def test_two_requests_of_a_new_company_at_once(any_store, hotspot, tmp_path: Path) -> None:
    hotspot.configure(spot_read_barrier=2)  # both validate, then both set the company up
    runs = []
    for n, (location, spot_id) in enumerate([("Lot A", "14283"), ("Garage C", "16001")]):
        path = tmp_path / f"{n}.json"
        path.write_text(json.dumps(json.loads(form({location: spot_id}))))
        runs.append(
            start_cli("onboard", str(path), hotspot_url=hotspot.url, log=tmp_path / f"{n}.log")
        )

    codes = [run.wait(timeout=240) for run in runs]

    logs = "".join((tmp_path / f"{n}.log").read_text() for n in range(2))
    assert codes == [0, 0], logs
    assert "IntegrityError" not in logs
    with session_scope() as session:
        assert len(crud.list_integrations(session)) == 1
        states = {
            m.spot_id: m.state
            for m in crud.mappings_by_spot(session, spot_ids=["14283", "16001"]).values()
        }
    assert states == {"14283": MappingState.live, "16001": MappingState.live}


async def test_status_says_when_a_run_was_interrupted(store, hotspot) -> None:
    request_id = submit(form({"Lot A": "14283"}))
    with session_scope() as session:  # a run took the request, then died at work
        session.execute(
            update(OnboardingRequest).values(
                lease_owner="dead-run/0",
                lease_expires_at=utcnow() - timedelta(seconds=1),
                run_last_seen_at=utcnow() - timedelta(seconds=61),
            )
        )
        outcome = crud.request_outcome(session, request_id=request_id)
    assert outcome.interrupted and outcome.run_last_seen_at is not None

    shown = run_cli("status", hotspot_url=hotspot.url)
    assert "interrupted" in shown.stdout

    await sweep_test_permits()  # the sweep settles it: failed, saying how to go on
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        assert request.state.value == "failed" and not request.interrupted
        assert "interrupted: its run stopped at work" in (request.reason or "")
    assert (await onboard(request_id)).state == "live"  # the next run takes it over


async def test_a_failed_run_withdraws_its_test_permits(store, hotspot, monkeypatch) -> None:
    async def broken(request_id: int) -> list[str]:
        raise RuntimeError("the machine ran out of disk")

    mark_live = onboard_request_module.mark_live
    monkeypatch.setattr(onboard_request_module, "mark_live", broken)
    request_id = submit(form({"Lot A": "14283"}))

    failed = await onboard(request_id)

    assert failed.state == "failed" and "ran out of disk" in (failed.reason or "")
    assert list(hotspot_permits(hotspot).values()) == ["revoked"]  # nothing left out
    monkeypatch.setattr(onboard_request_module, "mark_live", mark_live)
    assert (await onboard(request_id)).state == "live"  # and a retry still finishes
