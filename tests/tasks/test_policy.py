"""Tasks retry only transient HotSpot faults; every client comes from one factory."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prefect.states import Failed

from hotspot import HotSpotUnavailable, SpotNotFound
from settings import Settings
from tasks.policy import HOLDS_FILE, hotspot_client, is_transient, wired_hotspot
from tasks.validate import validate_spot_ids


def test_only_transient_hotspot_faults_are_retried() -> None:
    outage = Failed(data=HotSpotUnavailable("down", method="GET", path="/v1/spots/1"))
    unknown = Failed(data=SpotNotFound("no", method="GET", path="/v1/spots/1", status_code=404))
    bug = Failed(data=ValueError("a bug is not retried"))
    assert is_transient(validate_spot_ids, None, outage)  # type: ignore[arg-type]
    assert not is_transient(validate_spot_ids, None, unknown)  # type: ignore[arg-type]
    assert not is_transient(validate_spot_ids, None, bug)  # type: ignore[arg-type]


async def test_the_factory_reads_the_settings_and_refuses_use_outside_async_with() -> None:
    configured = Settings(HOTSPOT_API_URL="http://127.0.0.1:9", HOTSPOT_MAX_ATTEMPTS=2)
    hotspot = hotspot_client(configured=configured)
    assert repr(hotspot) == "HotSpotClient(base_url='http://127.0.0.1:9')"
    with pytest.raises(RuntimeError, match="async with"):
        await hotspot.get_spot("14283")


class CountingLimiter:
    def __init__(self) -> None:
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1

    async def hold(self, seconds: float) -> None:
        pass


async def test_every_client_is_built_with_the_wired_transport_and_limiter() -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        spot = {"spot_id": "14283", "name": "Lot A", "operator": "Northgate Parking"}
        spot |= {"timezone": "America/Toronto", "active": True, "requires_company_token": False}
        return httpx.Response(200, json=spot)

    limiter = CountingLimiter()
    configured = Settings(HOTSPOT_API_URL="http://127.0.0.1:9")
    with wired_hotspot(transport=lambda: httpx.MockTransport(answer), limiter=limiter):
        for _ in range(2):  # a transport each: the first client closed its own
            async with hotspot_client(configured=configured) as hotspot:
                assert (await hotspot.get_spot("14283")).name == "Lot A"
    assert asked == ["/v1/spots/14283"] * 2 and limiter.acquired == 2
    hotspot = hotspot_client(configured=configured)  # after the block: the network again
    assert hotspot._transport is None and hotspot._limiter is None


def test_every_client_shares_retry_after_holds_through_the_data_dir(tmp_path: Path) -> None:
    configured = Settings(HOTSPOT_API_URL="http://127.0.0.1:9", OFFSTREET_DATA_DIR=str(tmp_path))
    hotspot = hotspot_client(configured=configured)
    assert hotspot._gate.holds is not None
    assert hotspot._gate.holds.path == tmp_path / HOLDS_FILE
