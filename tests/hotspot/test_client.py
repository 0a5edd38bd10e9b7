"""The HotSpot client against mocked HTTP (respx): mapping, retries, the shared gate, secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pydantic
import pytest
import respx

from hotspot import (
    ExternalIdConflict,
    HotSpotAPIError,
    HotSpotClient,
    HotSpotRateLimited,
    HotSpotUnavailable,
    InvalidRequest,
    PermissionDenied,
    PermitNotFound,
    PermitRequest,
    SpotInactive,
    SpotNotFound,
    Unauthorized,
)
from hotspot.throttle import key_id, shared_gate

BASE_URL = "https://hotspot.test"
TOKEN = "tok-SECRET-company-4711"
SPOT = {
    "spot_id": "14283",
    "name": "Lot A",
    "operator": "Northgate Parking",
    "timezone": "America/Toronto",
    "active": True,
    "requires_company_token": False,
    "added_later": "ignored",
}
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC) - timedelta(hours=5)
PERMIT = {
    "permit_id": "pmt_1",
    "external_id": "offstreet-1",
    "spot_id": "14283",
    "plate": "TEST123",
    "status": "accepted",
    "start_time": START.isoformat(),
    "end_time": (START + timedelta(hours=1)).isoformat(),
}
HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.fixture
def partner_key() -> str:
    """A key of its own per test, so a Retry-After gate closed in one test never holds another."""
    return f"pk-SECRET-{uuid.uuid4().hex}"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


def client(partner_key: str, **options: Any) -> HotSpotClient:
    """A client with tiny backoffs, so retry tests take milliseconds."""
    return HotSpotClient(
        BASE_URL,
        partner_key,
        **{"backoff": 0.01, "backoff_max": 0.02, "max_attempts": 3, **options},
    )


def permit_request(external_id: str = "offstreet-1") -> PermitRequest:
    end = START + timedelta(hours=1)
    return PermitRequest(
        external_id=external_id, spot_id="14283", plate="TEST123", province="ON", country="CA",
        start_time=START, end_time=end,
    )  # fmt: skip


def error(status: int, code: str, message: str = "refused", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": code, "message": message}, headers=headers)


async def test_get_spot_sends_the_partner_key_and_tolerates_new_fields(
    api: respx.MockRouter, partner_key: str
) -> None:
    route = api.get("/v1/spots/14283").respond(json=SPOT)
    async with client(partner_key) as hotspot:
        spot = await hotspot.get_spot("14283")
    assert spot.name == "Lot A" and spot.requires_company_token is False
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {partner_key}"
    assert "X-HotSpot-Company-Token" not in route.calls.last.request.headers


async def test_company_token_header_is_sent_only_when_given(
    api: respx.MockRouter, partner_key: str
) -> None:
    route = api.post("/v1/permits").respond(201, json=PERMIT)
    async with client(partner_key) as hotspot:
        await hotspot.create_permit(permit_request())
        await hotspot.create_permit(permit_request(), company_token=TOKEN)
    without, with_token = (call.request.headers for call in route.calls)
    assert "X-HotSpot-Company-Token" not in without
    assert with_token["X-HotSpot-Company-Token"] == TOKEN


async def test_list_lookup_get_and_revoke_use_the_contract_paths(
    api: respx.MockRouter, partner_key: str
) -> None:
    api.get("/v1/spots", params={"operator": "Riverside Lots"}).respond(json={"spots": [SPOT]})
    api.get("/v1/enforcement/lookup", params={"plate": "TEST123", "spot_id": "14283"}).respond(
        json={"plate": "TEST123", "spot_id": "14283", "valid": True,
              "end_time": PERMIT["end_time"], "permits": [{**PERMIT, "status": "active"}]}
    )  # fmt: skip
    api.get("/v1/permits/pmt_1").respond(json={**PERMIT, "status": "active"})
    api.delete("/v1/permits/pmt_1").respond(json={**PERMIT, "status": "revoked"})
    async with client(partner_key) as hotspot:
        assert [s.spot_id for s in await hotspot.list_spots("Riverside Lots")] == ["14283"]
        lookup = await hotspot.lookup("TEST123", "14283")
        assert lookup.valid and lookup.permits[0].status == "active"
        assert (await hotspot.get_permit("pmt_1")).status == "active"
        assert (await hotspot.revoke_permit("pmt_1")).status == "revoked"


def test_permit_request_times_keep_their_offset_and_must_have_one() -> None:
    body = permit_request().model_dump(mode="json")
    assert body["start_time"] == "2025-03-01T04:00:00+00:00"
    with pytest.raises(pydantic.ValidationError):
        PermitRequest(**{**body, "start_time": datetime(2025, 3, 1, 9, 0)})


@pytest.mark.parametrize("status", [201, 200])
async def test_created_and_replayed_permits_both_return_the_permit(
    api: respx.MockRouter, partner_key: str, status: int
) -> None:
    api.post("/v1/permits").respond(status, json=PERMIT)
    async with client(partner_key) as hotspot:
        assert (await hotspot.create_permit(permit_request())).permit_id == "pmt_1"


Call = Callable[[HotSpotClient], Awaitable[object]]
DOCUMENTED: list[tuple[str, str, Call, int, str, type[HotSpotAPIError]]] = [
    ("GET", "/v1/spots/14283", lambda h: h.get_spot("14283"), 401, "unauthorized", Unauthorized),
    ("POST", "/v1/permits", lambda h: h.create_permit(permit_request()), 400, "invalid_plate",
     InvalidRequest),
    ("POST", "/v1/permits", lambda h: h.create_permit(permit_request(), company_token=TOKEN), 403,
     "permission_denied", PermissionDenied),
    ("GET", "/v1/spots/99999", lambda h: h.get_spot("99999"), 404, "spot_not_found", SpotNotFound),
    ("POST", "/v1/permits", lambda h: h.create_permit(permit_request()), 404, "spot_not_found",
     SpotNotFound),
    ("GET", "/v1/permits/pmt_x", lambda h: h.get_permit("pmt_x"), 404, "permit_not_found",
     PermitNotFound),
    ("DELETE", "/v1/permits/pmt_x", lambda h: h.revoke_permit("pmt_x"), 404, "not_found",
     PermitNotFound),
    ("POST", "/v1/permits", lambda h: h.create_permit(permit_request()), 409,
     "external_id_conflict", ExternalIdConflict),
    ("POST", "/v1/permits", lambda h: h.create_permit(permit_request()), 422, "spot_inactive",
     SpotInactive),
    ("GET", "/v1/enforcement/lookup", lambda h: h.lookup("?", "14283"), 418, "teapot",
     HotSpotAPIError),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "call", "status", "code", "expected"), DOCUMENTED)
async def test_documented_errors_map_to_their_class_and_are_not_retried(
    api: respx.MockRouter, partner_key: str, method: str, path: str, call: Call,
    status: int, code: str, expected: type[HotSpotAPIError],
) -> None:  # fmt: skip
    route = api.route(method=method, path=path).mock(return_value=error(status, code, "no"))
    async with client(partner_key) as hotspot:
        with pytest.raises(expected) as caught:
            await call(hotspot)
    assert type(caught.value) is expected and not caught.value.retryable
    assert (caught.value.status_code, caught.value.code, caught.value.message) == (
        status,
        code,
        "no",
    )
    assert (caught.value.method, caught.value.path) == (method, path)
    assert route.call_count == 1


@pytest.mark.parametrize(
    "fault",
    [
        httpx.Response(502, text=HTML, headers={"Content-Type": "text/html"}),
        error(503, "unavailable"),
        httpx.Response(504, text="<html>Gateway Timeout</html>"),
        error(500, "internal"),
        httpx.Response(200, text="{not json"),
        httpx.Response(200, text=HTML, headers={"Content-Type": "text/html"}),
        httpx.Response(200, json={"spot_id": "14283"}),
        httpx.Response(403, text="<html>Forbidden by the proxy</html>"),
    ],
    ids=[
        "502-html",
        "503-json",
        "504-html",
        "500",
        "malformed",
        "200-html",
        "wrong-shape",
        "403-html",
    ],
)
async def test_transient_faults_are_retried(
    api: respx.MockRouter, partner_key: str, fault: httpx.Response
) -> None:
    route = api.get("/v1/spots/14283").mock(side_effect=[fault, httpx.Response(200, json=SPOT)])
    async with client(partner_key) as hotspot:
        assert (await hotspot.get_spot("14283")).spot_id == "14283"
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("side_effect", "lower"),
    [
        (httpx.ReadTimeout, httpx.ReadTimeout),
        (httpx.ConnectTimeout, httpx.ConnectTimeout),
        (httpx.ConnectError, httpx.ConnectError),
        (httpx.ReadError, httpx.ReadError),
        (httpx.RemoteProtocolError, httpx.RemoteProtocolError),
        (httpx.Response(200, text="{not json"), json.JSONDecodeError),
        (httpx.Response(200, json={"spot_id": 1}), pydantic.ValidationError),
    ],
)
async def test_every_lower_error_is_mapped_to_unavailable(
    api: respx.MockRouter, partner_key: str, side_effect: Any, lower: type[Exception]
) -> None:
    route = api.get("/v1/spots/14283").mock(side_effect=[side_effect, side_effect])
    async with client(partner_key, max_attempts=2) as hotspot:
        with pytest.raises(HotSpotUnavailable) as caught:
            await hotspot.get_spot("14283")
    assert isinstance(caught.value.__cause__, lower) and caught.value.retryable
    assert route.call_count == 2


async def test_retries_give_up_after_max_attempts(api: respx.MockRouter, partner_key: str) -> None:
    route = api.get("/v1/spots/14283").mock(return_value=error(503, "unavailable", "down"))
    async with client(partner_key, max_attempts=4) as hotspot:
        with pytest.raises(HotSpotUnavailable) as caught:
            await hotspot.get_spot("14283")
    assert type(caught.value) is HotSpotUnavailable
    assert (caught.value.status_code, caught.value.code) == (503, "unavailable")
    assert route.call_count == 4


async def test_backoff_is_exponential_with_full_jitter_and_a_cap(
    api: respx.MockRouter, partner_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ceilings: list[float] = []
    monkeypatch.setattr(random, "uniform", lambda low, high: ceilings.append(high) or low)
    api.get("/v1/spots/14283").mock(return_value=error(502, "bad_gateway"))
    async with client(partner_key, max_attempts=5, backoff=0.1, backoff_max=0.3) as hotspot:
        with pytest.raises(HotSpotUnavailable):
            await hotspot.get_spot("14283")
    assert ceilings == pytest.approx([0.1, 0.2, 0.3, 0.3])


async def test_429_waits_for_retry_after_then_succeeds(
    api: respx.MockRouter, partner_key: str
) -> None:
    route = api.get("/v1/spots/14283").mock(
        side_effect=[
            error(429, "rate_limited", **{"Retry-After": "0.2"}),
            httpx.Response(200, json=SPOT),
        ]
    )
    started = time.monotonic()
    async with client(partner_key) as hotspot:
        await hotspot.get_spot("14283")
    assert time.monotonic() - started >= 0.2
    assert route.call_count == 2


async def test_429_on_the_last_attempt_raises_rate_limited(
    api: respx.MockRouter, partner_key: str
) -> None:
    api.get("/v1/spots/14283").mock(
        return_value=error(429, "rate_limited", **{"Retry-After": "0.05"})
    )
    async with client(partner_key, max_attempts=2) as hotspot:
        with pytest.raises(HotSpotRateLimited) as caught:
            await hotspot.get_spot("14283")
    assert isinstance(caught.value, HotSpotUnavailable)
    assert (caught.value.status_code, caught.value.retry_after) == (429, 0.05)


@pytest.mark.parametrize("refusal", [error(429, "rate_limited"), error(503, "unavailable")])
async def test_retry_after_holds_every_client_sharing_the_key(
    api: respx.MockRouter, partner_key: str, refusal: httpx.Response
) -> None:
    refusal.headers["Retry-After"] = "0.3"
    api.get("/v1/spots/1").mock(return_value=refusal)
    sent: dict[str, float] = {}

    def record(request: httpx.Request) -> httpx.Response:
        sent[request.headers["Authorization"]] = time.monotonic()
        return httpx.Response(200, json=SPOT)

    api.get("/v1/spots/14283").mock(side_effect=record)
    async with client(partner_key, max_attempts=1) as first:
        with pytest.raises(HotSpotUnavailable):
            await first.get_spot("1")
    refused_at = time.monotonic()
    # The gate is the partner key's, shared by every client of it; another key has its own.
    assert shared_gate(key_id(BASE_URL, partner_key)).remaining() > 0.2
    assert shared_gate(key_id(BASE_URL, "pk-other")).remaining() == 0
    async with client(partner_key) as same_key, client("pk-other") as other_key:
        await asyncio.gather(same_key.get_spot("14283"), other_key.get_spot("14283"))
    assert sent[f"Bearer {partner_key}"] - refused_at >= 0.25


async def test_post_after_a_lost_response_resends_the_identical_body(
    api: respx.MockRouter, partner_key: str
) -> None:
    route = api.post("/v1/permits").mock(
        side_effect=[httpx.ReadError, httpx.Response(504, text="<html>Gateway Timeout</html>"),
                     httpx.Response(200, json=PERMIT)]
    )  # fmt: skip
    async with client(partner_key) as hotspot:
        permit = await hotspot.create_permit(permit_request(), company_token=TOKEN)
    assert permit.external_id == "offstreet-1"
    bodies = {call.request.content for call in route.calls}
    assert len(bodies) == 1 and route.call_count == 3


async def test_rate_limit_and_concurrency_are_enforced(
    api: respx.MockRouter, partner_key: str
) -> None:
    in_flight, peak, sent = 0, 0, []

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        sent.append(time.monotonic())
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return httpx.Response(200, json=SPOT)

    api.get("/v1/spots/14283").mock(side_effect=slow)
    async with client(partner_key, max_concurrency=2, rate_limit=40) as hotspot:
        await asyncio.gather(*(hotspot.get_spot("14283") for _ in range(6)))
    assert peak == 2
    # Six sends at 40/s span at least 5/40 s; the span, unlike single gaps, survives the
    # scheduling jitter of a loaded machine.
    assert sent[-1] - sent[0] >= 5 / 40 - 0.02


async def test_an_injected_limiter_is_asked_before_every_request(
    api: respx.MockRouter, partner_key: str
) -> None:
    class Counting:
        acquired = 0

        async def acquire(self) -> None:
            self.acquired += 1

        async def hold(self, seconds: float) -> None:
            raise AssertionError("no Retry-After was sent")

    limiter = Counting()
    api.get("/v1/spots/14283").mock(side_effect=[error(502, "x"), httpx.Response(200, json=SPOT)])
    async with client(partner_key, limiter=limiter) as hotspot:
        await hotspot.get_spot("14283")
    assert limiter.acquired == 2


async def test_retry_after_is_passed_to_the_shared_limiter(
    api: respx.MockRouter, partner_key: str
) -> None:
    held: list[float] = []

    class Shared:
        async def acquire(self) -> None:
            pass

        async def hold(self, seconds: float) -> None:
            held.append(seconds)

    refusal = error(429, "rate_limited", **{"Retry-After": "0.05"})
    api.get("/v1/spots/14283").mock(side_effect=[refusal, httpx.Response(200, json=SPOT)])
    async with client(partner_key, limiter=Shared()) as hotspot:
        await hotspot.get_spot("14283")
    assert held == [0.05]


async def test_secrets_never_reach_errors_reprs_or_logs(
    api: respx.MockRouter, partner_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echoed = f"token {TOKEN} is not accepted for partner {partner_key}"
    api.post("/v1/permits").mock(
        side_effect=[httpx.ReadTimeout, error(403, "permission_denied", echoed)]
    )
    hotspot = client(partner_key)
    async with hotspot:
        with pytest.raises(PermissionDenied) as caught:
            await hotspot.create_permit(permit_request(), company_token=TOKEN)
    assert "***" in str(caught.value)
    assert "retrying" in caplog.text and "POST /v1/permits" in caplog.text
    for text in (str(caught.value), repr(caught.value), repr(hotspot), caplog.text,
                 repr(pickle.loads(pickle.dumps(caught.value)).__dict__)):  # fmt: skip
        assert partner_key not in text and TOKEN not in text


async def test_use_outside_async_with() -> None:
    hotspot = HotSpotClient("http://127.0.0.1:9", "key", max_attempts=2)
    assert repr(hotspot) == "HotSpotClient(base_url='http://127.0.0.1:9')"
    with pytest.raises(RuntimeError, match="async with"):
        await hotspot.get_spot("14283")
