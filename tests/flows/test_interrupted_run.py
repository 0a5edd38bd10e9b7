"""A run killed mid-way (SIGKILL, no clean-up) is run again to live without duplicates."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

from store import crud
from store.db import session_scope
from store.models import PermitState
from testing.cli import start_cli
from testing.onboarding import bench_company
from tests.flows.test_onboard_request import onboard

STALLS = {f"Stall {n}": str(300000 + n) for n in range(1, 21)}


async def test_killed_run_continues_to_live_without_duplicates(store, hotspot, tmp_path) -> None:
    with session_scope() as session:
        crud.upsert_company(session, company_in=bench_company(STALLS))
    request_file = tmp_path / "form.json"
    request_file.write_text(
        json.dumps(
            {
                "company": "Bench Co",
                "contact_email": "ops@bench.example",
                "spots": [{"location": loc, "spot_id": spot} for loc, spot in STALLS.items()],
            }
        )
    )
    # Slow answers and lost responses, so the kill also lands between pushes and records.
    hotspot.configure(latency=0.2, lost_response_rate=0.3, delay=1)
    log = tmp_path / "onboard.log"
    # Pushes spread over seconds (5 per second), so the kill lands between them.
    run = start_cli(
        "onboard", str(request_file), hotspot_url=hotspot.url, log=log, HOTSPOT_RATE_LIMIT="5"
    )
    deadline = time.monotonic() + 120
    while len(hotspot.state()["permits"]) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    pushed_before_kill = len(hotspot.state()["permits"])
    assert 0 < pushed_before_kill < len(STALLS), f"the kill missed:\n{log.read_text()[-3000:]}"

    hotspot.configure(latency=0, lost_response_rate=0)
    with session_scope() as session:
        [stored] = crud.list_requests(session)
    outcome = await onboard(stored.id)

    assert outcome.state == "live", outcome.reason
    per_spot = Counter(p["spot_id"] for p in hotspot.state()["permits"])
    assert per_spot == Counter(STALLS.values())
    with session_scope() as session:
        for spot_id in STALLS.values():
            [permit] = crud.permits_for_spot(session, spot_id=spot_id)
            assert permit.state == PermitState.revoked
