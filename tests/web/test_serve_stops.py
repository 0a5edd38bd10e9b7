"""`hotspot-onboard serve` as a real process stops on SIGTERM with an onboarding in flight:
Prefect raises the signal inside whatever code runs, often that onboarding, whose engine hands
it back to uvicorn; the server stops, nothing of it is left, and the run stops short."""

from __future__ import annotations

import signal
import subprocess

import httpx

from stack import process
from store import crud
from store.db import session_scope
from store.models import RequestState
from tests.web.conftest import STAFF_KEY
from tests.web.server import WebServer

ACME = {
    "company": "Acme Parking",
    "contact_email": "jane@acme.example",
    "spots": [{"location": "Lot A", "spot_id": "14283"}],
}


def test_serve_stops_on_sigterm_with_an_onboarding_in_flight(store, hotspot, monkeypatch) -> None:
    monkeypatch.setenv("OFFSTREET_API_KEYS", STAFF_KEY)
    hotspot.configure(delay=600)  # TEST123 shows only after the test: the run keeps polling
    server = WebServer(hotspot_url=hotspot.url).start()
    try:
        answer = httpx.post(
            f"{server.url}/api/requests", json=ACME, headers={"X-API-Key": STAFF_KEY}, timeout=60
        )
        assert answer.status_code in (200, 201, 202), answer.text
        polling = process.wait_until(polling_hotspot, timeout=180, process=server.process)
        assert polling, "the onboarding never reached HotSpot's lookup"
        tree = [server.pid, *process.descendants(server.pid)]

        server.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]

        try:
            server.process.wait(timeout=90)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"serve went on after SIGTERM:\n{server.output()[-3000:]}"
            ) from None
    finally:
        server.stop()
    assert process.wait_until(
        lambda: not any(process.alive(p) for p in tree), timeout=30, process=None
    )
    with session_scope() as session:
        [request] = crud.list_requests(session)
        assert request.state != RequestState.live  # stopped short; a retry takes it over


def polling_hotspot() -> bool:
    with session_scope() as session:
        return any(r.state == RequestState.test_issued for r in crud.list_requests(session))
