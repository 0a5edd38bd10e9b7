"""The real client against the real sandbox: the contract end to end, then with faults turned up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotspot import (
    ExternalIdConflict,
    HotSpotClient,
    InvalidRequest,
    PermissionDenied,
    PermitNotFound,
    PermitRequest,
    SpotInactive,
    SpotNotFound,
    Unauthorized,
)
from hotspot_sandbox import SANDBOX_PARTNER_KEY
from stack.sandbox import SandboxProcess

NORTHGATE_TOKEN = "nt-acme-7Qx9c2VfLk"


def client(sandbox: SandboxProcess, **options: Any) -> HotSpotClient:
    """A client for the sandbox with short backoffs, so fault tests stay quick."""
    defaults: dict[str, Any] = {"backoff": 0.05, "backoff_max": 0.5, "max_attempts": 20}
    return HotSpotClient(sandbox.url, SANDBOX_PARTNER_KEY, **(defaults | options))


def permit(external_id: str, spot_id: str = "14283", plate: str = "TEST123") -> PermitRequest:
    now = datetime.now(UTC)
    return PermitRequest(
        external_id=external_id,
        spot_id=spot_id,
        plate=plate,
        province="ON",
        country="CA",
        start_time=now - timedelta(minutes=1),
        end_time=now + timedelta(hours=1),
    )


async def test_the_contract_end_to_end(sandbox: SandboxProcess) -> None:
    sandbox.configure(delay=0.2)
    async with client(sandbox) as hotspot:
        assert (await hotspot.get_spot("14283")).name == "Lot A"
        assert {s.spot_id for s in await hotspot.list_spots("Riverside Lots")} == {"18000", "18001"}
        request = permit("offstreet-e2e")
        created = await hotspot.create_permit(request)
        assert created.status == "accepted"
        assert (await hotspot.create_permit(request)).permit_id == created.permit_id
        assert (await hotspot.lookup("TEST123", "14283")).valid is False
        await asyncio.sleep(0.3)
        seen = await hotspot.lookup("TEST123", "14283")
        assert seen.valid and seen.end_time == request.end_time
        assert (await hotspot.get_permit(created.permit_id)).status == "active"
        assert (await hotspot.revoke_permit(created.permit_id)).status == "revoked"
        assert (await hotspot.lookup("TEST123", "14283")).valid is False


async def test_documented_errors_over_http(sandbox: SandboxProcess) -> None:
    async with client(sandbox) as hotspot:
        with pytest.raises(SpotNotFound):
            await hotspot.get_spot("99999")
        with pytest.raises(SpotInactive):
            await hotspot.create_permit(permit("e-1", spot_id="19999"))
        with pytest.raises(PermissionDenied):
            await hotspot.create_permit(permit("e-2"), company_token="not-acme")
        with pytest.raises(InvalidRequest):
            await hotspot.create_permit(permit("e-3", plate="T"))
        await hotspot.create_permit(permit("e-4"))
        with pytest.raises(ExternalIdConflict):
            await hotspot.create_permit(permit("e-4", plate="OTHER1"))
        with pytest.raises(PermitNotFound):
            await hotspot.get_permit("pmt_nope")
    async with HotSpotClient(sandbox.url, "wrong-key") as stranger:
        with pytest.raises(Unauthorized):
            await stranger.get_spot("14283")


async def test_token_spot_needs_the_company_token_to_go_visible(sandbox: SandboxProcess) -> None:
    async with client(sandbox) as hotspot:
        await hotspot.create_permit(permit("quiet", spot_id="15320"))
        assert (await hotspot.lookup("TEST123", "15320")).valid is False
        await hotspot.create_permit(permit("loud", spot_id="15320"), company_token=NORTHGATE_TOKEN)
        assert (await hotspot.lookup("TEST123", "15320")).valid is True


async def test_faults_and_rate_limit_leave_exactly_one_permit_each(sandbox: SandboxProcess) -> None:
    sandbox.configure(error_rate=0.3, lost_response_rate=0.3, rate_limit=10)
    external_ids = [f"offstreet-chaos-{n}" for n in range(20)]
    async with client(sandbox) as hotspot:
        permits = await asyncio.gather(
            *(hotspot.create_permit(permit(eid, spot_id=str(300000 + n)))
              for n, eid in enumerate(external_ids))
        )  # fmt: skip
    state = sandbox.state()
    assert sorted(p["external_id"] for p in state["permits"]) == sorted(external_ids)
    assert {p.permit_id for p in permits} == {p["permit_id"] for p in state["permits"]}
    assert state["errors_injected"] > 0 and state["responses_lost"] > 0
    assert state["max_requests_in_one_second"] <= 10


async def test_client_side_rate_limit_keeps_hotspot_from_refusing(sandbox: SandboxProcess) -> None:
    sandbox.configure(rate_limit=10)
    async with client(sandbox, rate_limit=8) as hotspot:
        await asyncio.gather(*(hotspot.get_spot(str(300000 + n)) for n in range(12)))
    state = sandbox.state()
    assert state["rate_limited"] == 0
    assert state["requests"]["GET /v1/spots/{spot_id}"] == {"200": 12}
