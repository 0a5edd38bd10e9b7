"""The sandbox over real HTTP: every endpoint and error of the contract, and every knob."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hotspot_sandbox import SANDBOX_PARTNER_KEY
from stack.sandbox import SandboxProcess

NORTHGATE_TOKEN = "nt-acme-7Qx9c2VfLk"
RIVERSIDE_TOKEN = "rv-harbor-3Jd8sPq1Zm"
BENCH_SECURE_TOKEN = "bs-bench-9Wm4tXe6Rh"


@pytest.fixture
async def http(sandbox: SandboxProcess) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {SANDBOX_PARTNER_KEY}"}
    async with httpx.AsyncClient(base_url=sandbox.url, headers=headers) as client:
        yield client


def permit_body(**changes: Any) -> dict[str, Any]:
    """A valid permit body for Lot A, valid from a minute ago for an hour."""
    now = datetime.now(UTC)
    return {
        "external_id": f"offstreet-{uuid.uuid4().hex[:8]}",
        "spot_id": "14283",
        "plate": "TEST123",
        "province": "ON",
        "country": "CA",
        "start_time": (now - timedelta(minutes=1)).isoformat(),
        "end_time": (now + timedelta(hours=1)).isoformat(),
        **changes,
    }


async def post(
    http: httpx.AsyncClient, body: dict[str, Any], token: str | None = None
) -> httpx.Response:
    headers = {"X-HotSpot-Company-Token": token} if token else {}
    return await http.post("/v1/permits", json=body, headers=headers)


async def lookup(
    http: httpx.AsyncClient, spot_id: str = "14283", plate: str = "TEST123"
) -> dict[str, Any]:
    response = await http.get("/v1/enforcement/lookup", params={"plate": plate, "spot_id": spot_id})
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert (
        body["error"] == code
        and isinstance(body["message"], str)
        and set(body) == {"error", "message"}
    )


async def test_control_api_needs_no_key_but_v1_does(sandbox: SandboxProcess) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as anonymous:
        assert (await anonymous.get("/_sandbox/health")).json() == {"status": "ok"}
        assert_error(await anonymous.get("/v1/spots/14283"), 401, "unauthorized")
        wrong = {"Authorization": "Bearer not-the-key"}
        assert_error(await anonymous.get("/v1/spots/14283", headers=wrong), 401, "unauthorized")
    assert sandbox.state()["requests"] == {"GET /v1/spots/{spot_id}": {"401": 2}}


async def test_spots_listed_ranged_and_unknown(http: httpx.AsyncClient) -> None:
    lot_b = (await http.get("/v1/spots/15320")).json()
    assert lot_b == {
        "spot_id": "15320",
        "name": "Lot B",
        "operator": "Northgate Parking",
        "timezone": "America/Toronto",
        "active": True,
        "requires_company_token": True,
    }
    assert (await http.get("/v1/spots/300500")).json()["operator"] == "Bench Parking"
    for unknown in ("99999", "301000", "0300500"):
        assert_error(await http.get(f"/v1/spots/{unknown}"), 404, "spot_not_found")
    riverside = (await http.get("/v1/spots", params={"operator": "Riverside Lots"})).json()
    assert [spot["spot_id"] for spot in riverside["spots"]] == ["18000", "18001"]
    secure = (await http.get("/v1/spots", params={"operator": "Bench Secure"})).json()["spots"]
    assert len(secure) == 100 and all(spot["requires_company_token"] for spot in secure)
    assert_error(await http.get("/v1/spots"), 400, "invalid_request")


async def test_create_is_idempotent_on_external_id(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    body = permit_body(plate="test-123")
    created = await post(http, body)
    assert created.status_code == 201
    assert created.json()["plate"] == "TEST123" and created.json()["status"] == "active"
    replayed = await post(http, {**body, "plate": "TEST 123"})
    assert replayed.status_code == 200 and replayed.json() == created.json()
    assert_error(await post(http, {**body, "plate": "OTHER1"}), 409, "external_id_conflict")
    assert len(sandbox.state()["permits"]) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"plate": "T"}, {"plate": "ABCDEFGHIJK"}, {"plate": "TE$T1"}, {"plate": 123},
        {"province": "ONT"}, {"country": "C"}, {"spot_id": "12"}, {"spot_id": 14283},
        {"start_time": "2025-03-01T09:00:00"}, {"end_time": "tomorrow"},
        {"end_time": "2000-01-01T00:00:00+00:00"}, {"external_id": ""},
    ],
)  # fmt: skip
async def test_invalid_fields_are_400(http: httpx.AsyncClient, changes: dict[str, Any]) -> None:
    assert_error(await post(http, permit_body(**changes)), 400, "invalid_request")


async def test_malformed_bodies_are_400(http: httpx.AsyncClient) -> None:
    body = permit_body()
    del body["plate"]
    assert_error(await post(http, body), 400, "invalid_request")
    assert_error(await http.post("/v1/permits", content=b"{nope"), 400, "invalid_request")
    assert_error(await http.post("/v1/permits", json=[1]), 400, "invalid_request")


async def test_spot_and_token_errors(http: httpx.AsyncClient, sandbox: SandboxProcess) -> None:
    assert_error(await post(http, permit_body(spot_id="99999")), 404, "spot_not_found")
    assert_error(await post(http, permit_body(spot_id="19999")), 422, "spot_inactive")
    assert_error(await post(http, permit_body(), token="wrong"), 403, "permission_denied")
    rival = permit_body(spot_id="15320")
    assert_error(await post(http, rival, token=RIVERSIDE_TOKEN), 403, "permission_denied")
    assert_error(
        await post(http, permit_body(spot_id="300001"), token="x"), 403, "permission_denied"
    )
    assert sandbox.state()["permits"] == []


async def test_get_and_revoke_permit(http: httpx.AsyncClient) -> None:
    created = (await post(http, permit_body())).json()
    path = f"/v1/permits/{created['permit_id']}"
    assert (await http.get(path)).json()["status"] == "active"
    assert (await lookup(http))["valid"] is True
    revoked = await http.delete(path)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = await http.delete(path)
    assert again.status_code == 200 and again.json() == revoked.json()
    assert (await lookup(http))["valid"] is False
    assert_error(await http.get("/v1/permits/pmt_nope"), 404, "permit_not_found")
    assert_error(await http.delete("/v1/permits/pmt_nope"), 404, "permit_not_found")


async def test_permit_becomes_visible_after_the_delay(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    sandbox.configure(delay=0.4)
    created = (await post(http, permit_body())).json()
    assert created["status"] == "accepted"
    assert await lookup(http) == {"plate": "TEST123", "spot_id": "14283", "valid": False,
                                  "end_time": None, "permits": []}  # fmt: skip
    await asyncio.sleep(0.5)
    seen = await lookup(http)
    assert seen["valid"] is True and seen["end_time"] is not None
    assert [p["permit_id"] for p in seen["permits"]] == [created["permit_id"]]
    assert (await http.get(f"/v1/permits/{created['permit_id']}")).json()["status"] == "active"
    (permit,) = sandbox.state()["permits"]
    assert permit["visible_at"] > permit["created_at"]


async def test_token_spots_quietly_ignore_permits_without_an_accepted_token(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    quiet = await post(http, permit_body(spot_id="15320"))
    assert quiet.status_code == 201
    await asyncio.sleep(0.05)
    assert (await lookup(http, "15320"))["valid"] is False
    assert (
        await post(http, permit_body(spot_id="15320"), token=NORTHGATE_TOKEN)
    ).status_code == 201
    assert (
        await post(http, permit_body(spot_id="400042"), token=BENCH_SECURE_TOKEN)
    ).status_code == 201
    assert (await lookup(http, "15320"))["valid"] is True
    assert (await lookup(http, "400042"))["valid"] is True
    permits = {p["external_id"]: p for p in sandbox.state()["permits"]}
    silent = permits[quiet.json()["external_id"]]
    assert silent["visible_at"] is None and silent["with_accepted_token"] is False
    assert sum(p["with_accepted_token"] for p in permits.values()) == 2


async def test_permit_expires_at_its_end_time(http: httpx.AsyncClient) -> None:
    end = datetime.now(UTC) + timedelta(seconds=0.3)
    created = (await post(http, permit_body(end_time=end.isoformat()))).json()
    assert (await lookup(http))["valid"] is True
    await asyncio.sleep(0.4)
    assert (await http.get(f"/v1/permits/{created['permit_id']}")).json()["status"] == "expired"
    assert (await lookup(http))["valid"] is False


async def test_lookup_errors_and_counts(http: httpx.AsyncClient, sandbox: SandboxProcess) -> None:
    params = {"plate": "T", "spot_id": "14283"}
    assert_error(await http.get("/v1/enforcement/lookup", params=params), 400, "invalid_request")
    params = {"plate": "TEST123", "spot_id": "12"}
    assert_error(await http.get("/v1/enforcement/lookup", params=params), 400, "invalid_request")
    params = {"plate": "TEST123", "spot_id": "99999"}
    assert_error(await http.get("/v1/enforcement/lookup", params=params), 404, "spot_not_found")
    assert_error(await http.get("/v1/enforcement/lookup"), 400, "invalid_request")
    await lookup(http, "14283", plate="test 123")
    await lookup(http, "14283")
    state = sandbox.state()
    assert state["lookups"] == {"14283": 2}
    assert state["requests"]["GET /v1/enforcement/lookup"] == {"200": 2, "400": 3, "404": 1}


async def test_rate_limit_answers_429_with_retry_after(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    sandbox.configure(rate_limit=3)
    responses = await asyncio.gather(*(http.get("/v1/spots/14283") for _ in range(8)))
    refused = [r for r in responses if r.status_code == 429]
    assert sorted(r.status_code for r in responses) == [200] * 3 + [429] * 5
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    assert_error(refused[0], 429, "rate_limited")
    await asyncio.sleep(1.05)
    assert (await http.get("/v1/spots/14283")).status_code == 200
    state = sandbox.state()
    assert state["rate_limited"] == 5 and state["max_requests_in_one_second"] == 3


async def test_fixed_windows_let_a_burst_through_at_the_window_edge(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    sandbox.configure(rate_limit=5, rate_limiter="fixed")
    # The sandbox's windows are whole seconds of the machine's monotonic clock (ours too).
    await asyncio.sleep(math.floor(time.monotonic()) + 1.75 - time.monotonic())
    late = await asyncio.gather(*(http.get("/v1/spots/14283") for _ in range(5)))
    await asyncio.sleep(math.floor(time.monotonic()) + 1.05 - time.monotonic())
    early = await asyncio.gather(*(http.get("/v1/spots/14283") for _ in range(6)))
    assert [r.status_code for r in late] == [200] * 5
    assert sorted(r.status_code for r in early) == [200] * 5 + [429]
    state = sandbox.state()
    assert state["rate_limited"] == 1 and state["max_requests_in_one_second"] == 10


async def test_a_token_bucket_allows_its_burst_then_refills_at_the_rate(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    sandbox.configure(rate_limit=5, rate_limiter="token")
    burst = await asyncio.gather(*(http.get("/v1/spots/14283") for _ in range(8)))
    assert sorted(r.status_code for r in burst) == [200] * 5 + [429] * 3
    await asyncio.sleep(0.45)  # two tokens back (three if this machine is slow), not five
    later = await asyncio.gather(*(http.get("/v1/spots/14283") for _ in range(5)))
    assert 2 <= [r.status_code for r in later].count(200) <= 3


async def test_rate_headers_announce_the_limit_the_remaining_and_the_reset(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    sandbox.configure(rate_limit=3, rate_headers=True)
    answers = [await http.get("/v1/spots/14283") for _ in range(4)]
    assert [r.headers["RateLimit-Limit"] for r in answers] == ["3"] * 4
    assert [r.headers["RateLimit-Remaining"] for r in answers] == ["2", "1", "0", "0"]
    assert answers[-1].status_code == 429 and int(answers[-1].headers["RateLimit-Reset"]) >= 1
    sandbox.configure(rate_headers=False)
    assert "RateLimit-Limit" not in (await http.get("/v1/spots/14283")).headers


def test_an_unknown_limiter_kind_is_refused(sandbox: SandboxProcess) -> None:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        sandbox.configure(rate_limiter="leaky")
    assert refused.value.response.status_code == 422


async def test_error_rate_injects_502_html_and_503_json(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    sandbox.configure(error_rate=1)
    responses = [await http.get("/v1/spots/14283") for _ in range(20)]
    assert {r.status_code for r in responses} == {502, 503}
    for response in responses:
        if response.status_code == 502:
            assert response.headers["content-type"].startswith("text/html")
        else:
            assert_error(response, 503, "unavailable")
    assert (await http.get(f"{sandbox.url}/_sandbox/health")).status_code == 200
    assert sandbox.state()["errors_injected"] == 20


async def test_lost_response_commits_the_write(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    sandbox.configure(lost_response_rate=1)
    body = permit_body()
    lost = await post(http, body)
    assert lost.status_code == 504 and "Gateway Timeout" in lost.text
    assert [p["external_id"] for p in sandbox.state()["permits"]] == [body["external_id"]]
    sandbox.configure(lost_response_rate=0)
    assert (await post(http, body)).status_code == 200
    assert sandbox.state()["responses_lost"] == 1


async def test_latency_delays_v1_only(http: httpx.AsyncClient, sandbox: SandboxProcess) -> None:
    sandbox.configure(latency=1.0)
    started = time.monotonic()
    await http.get("/v1/spots/14283")
    assert time.monotonic() - started >= 1.0
    started = time.monotonic()
    await http.get(f"{sandbox.url}/_sandbox/state")
    assert time.monotonic() - started < 1.0  # the control API has no latency knob


async def test_config_and_reset(http: httpx.AsyncClient, sandbox: SandboxProcess) -> None:
    assert sandbox.configure(delay=(1, 5))["delay_max"] == 5
    for bad in ({"error_rate": 2}, {"delay_min": 9}, {"nonsense": 1}):
        response = await http.post(f"{sandbox.url}/_sandbox/config", json=bad)
        assert_error(response, 422, "invalid_knobs")
    await post(http, permit_body())
    knobs = sandbox.reset(rate_limit=7)
    state = sandbox.state()
    assert knobs == state["knobs"] and knobs["rate_limit"] == 7 and knobs["delay_max"] == 0
    assert state["permits"] == [] and state["requests"] == {} and state["lookups"] == {}


AT_GARAGE_C = {"plate": "TEST123", "spot_id": "16001"}


async def test_spot_changes_and_token_revocation_last_until_reset(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    changed = sandbox.change_spot("14283", active=False, operator="Riverside Lots")
    assert (changed["active"], changed["operator"]) == (False, "Riverside Lots")
    spot = (await http.get("/v1/spots/14283")).json()
    assert (spot["active"], spot["operator"]) == (False, "Riverside Lots")
    assert (await http.post("/v1/permits", json=permit_body())).status_code == 422

    sandbox.change_spot("300001", operator="Bench Secure")  # a ranged spot too
    assert (await http.get("/v1/spots/300001")).json()["operator"] == "Bench Secure"

    assert sandbox.revoke_token(NORTHGATE_TOKEN) == {"revoked_by": ["Northgate Parking"]}
    token = {"X-HotSpot-Company-Token": NORTHGATE_TOKEN}
    refused = await http.post("/v1/permits", json=permit_body(spot_id="15320"), headers=token)
    assert refused.status_code == 403

    sandbox.change_spot("16001", shows_permits=False)
    hidden = await http.post("/v1/permits", json=permit_body(spot_id="16001"))
    assert hidden.status_code == 201
    lookup = await http.get("/v1/enforcement/lookup", params=AT_GARAGE_C)
    assert lookup.json()["valid"] is False

    sandbox.reset()
    assert (await http.get("/v1/spots/14283")).json()["active"] is True
    assert (await http.get("/v1/spots/300001")).json()["operator"] == "Bench Parking"
    again = await http.post("/v1/permits", json=permit_body(spot_id="15320"), headers=token)
    assert again.status_code == 201
    shown = await http.post("/v1/permits", json=permit_body(spot_id="16001"))
    assert shown.status_code == 201
    lookup = await http.get("/v1/enforcement/lookup", params=AT_GARAGE_C)
    assert lookup.json()["valid"] is True


def test_unknown_spot_changes_are_refused(sandbox: SandboxProcess) -> None:
    with pytest.raises(httpx.HTTPStatusError) as unknown_field:
        sandbox.change_spot("14283", colour="red")
    assert unknown_field.value.response.status_code == 422
    with pytest.raises(httpx.HTTPStatusError) as unknown_spot:
        sandbox.change_spot("99999", active=False)
    assert unknown_spot.value.response.status_code == 404


def test_the_command_refuses_an_unknown_limiter_kind() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hotspot_sandbox", "--rate-limiter", "leaky"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "sliding, fixed, token" in done.stderr
