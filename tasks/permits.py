"""Step 4: issue one TEST123 permit at each new SpotID.

Each permit is recorded (with its external_id and times) before it is pushed, so a push
whose response was lost is repeated with the identical body and HotSpot returns the same
permit: never two test permits at one spot. HotSpot's answers are recorded in batches, off the
event loop (`tasks.recorder`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from prefect import get_run_logger, task
from pydantic import BaseModel

from hotspot import HotSpotAPIError, HotSpotClient, PermissionDenied, PermitRequest
from settings import settings
from store import crud
from store.db import session_scope
from store.models import (
    NOT_YET_VERIFIED,
    MappingState,
    PermitState,
    RequestState,
    SpotMapping,
    TestPermit,
    stored_id,
    utcnow,
)
from tasks.policy import HOTSPOT_TASK_RETRIES, gather_all, hotspot_client
from tasks.recorder import Recorder, set_mapping, set_permit


@task(name="issue-test-permits", **HOTSPOT_TASK_RETRIES)
async def issue_test_permits(request_id: int) -> int:
    """Push a TEST123 permit for each mapping not yet verified; returns how many were pushed."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        token = crud.requester_token(session, request=request)
        mappings = [
            m
            for m in crud.request_mappings(session, request_id=request_id)
            if m.state in NOT_YET_VERIFIED
        ]
        active = crud.active_permits(session, mapping_ids=[stored_id(m) for m in mappings])
    # A permit pushed before the company's token was on file can never become visible, and
    # one that ends before it could be verified proves nothing: revoke it, push a new one.
    soon = utcnow() + timedelta(seconds=settings.verify_timeout_seconds)
    stale = [
        p
        for p in active.values()
        if p.with_company_token != (token is not None) or p.end_time <= soon
    ]
    async with hotspot_client() as hotspot, Recorder() as record:
        await gather_all(revoke_test_permit(hotspot, permit, token, record) for permit in stale)
        await record.flush()  # revoked on file before its successor is: one active per mapping
        pending = _record_permits(mappings, with_token=token is not None)
        await gather_all(_push(hotspot, permit, token, record) for permit in pending)
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        crud.set_request_state(
            session, request=request, state=RequestState.test_issued, reason=None
        )
    get_run_logger().info(
        "Request %s: %d TEST123 permits pushed%s",
        request_id,
        len(pending),
        " with the company token" if token else " (no company token on file)",
    )
    return len(pending)


def _record_permits(mappings: list[SpotMapping], *, with_token: bool) -> list[TestPermit]:
    """Give every mapping an active permit row, and return those not yet accepted by HotSpot.

    All in one transaction, before any is pushed: each permit's external_id is on file first.
    """
    pending = []
    with session_scope() as session:
        active = crud.active_permits(session, mapping_ids=[stored_id(m) for m in mappings])
        for mapping in mappings:
            permit = active.get(mapping.id or 0)
            if permit is None:
                start = utcnow()
                permit = crud.add_permit(
                    session,
                    mapping=mapping,
                    external_id=f"offstreet-test-{uuid.uuid4().hex}",
                    with_company_token=with_token,
                    start_time=start,
                    end_time=start + timedelta(minutes=settings.test_permit_validity_minutes),
                )
            if permit.state == PermitState.pending:
                pending.append(permit)
    return pending


def permit_request(permit: TestPermit) -> PermitRequest:
    return PermitRequest(
        external_id=permit.external_id,
        spot_id=permit.spot_id,
        plate=permit.plate or settings.test_plate,
        province=settings.test_permit_province,
        country=settings.test_permit_country,
        start_time=permit.start_time,
        end_time=permit.end_time,
    )


async def _push(
    hotspot: HotSpotClient, permit: TestPermit, token: str | None, record: Recorder
) -> None:
    """POST the permit (a replay after a lost response returns the same permit)."""
    try:
        pushed = await hotspot.create_permit(
            permit_request(permit), company_token=token if permit.with_company_token else None
        )
    except PermissionDenied:
        record(
            set_mapping(
                permit.mapping_id,
                MappingState.waiting_on_ops,
                "HotSpot refused the company's token for this SpotID's operator; get the right "
                "token from the customer and store it with `hotspot-onboard token COMPANY`",
            )
        )
        return
    except HotSpotAPIError as exc:
        record(set_permit(permit.id or 0, state=PermitState.refused))
        record(
            set_mapping(
                permit.mapping_id, MappingState.failed, f"HotSpot refused the test permit: {exc}"
            )
        )
        return
    record(
        set_permit(
            permit.id or 0,
            state=PermitState.issued,
            hotspot_permit_id=pushed.permit_id,
            issued_at=utcnow(),
        )
    )
    record(set_mapping(permit.mapping_id, MappingState.test_issued))


async def revoke_test_permit(
    hotspot: HotSpotClient, permit: TestPermit, token: str | None, record: Recorder
) -> None:
    """Withdraw a test permit at HotSpot, learning its id first if its push went unanswered."""
    own_token = token if permit.with_company_token else None
    hotspot_id = permit.hotspot_permit_id
    if hotspot_id is None:
        try:
            pushed = await hotspot.create_permit(permit_request(permit), company_token=own_token)
            hotspot_id = pushed.permit_id
        except HotSpotAPIError:
            hotspot_id = None  # HotSpot never held it
    if hotspot_id is not None:
        await hotspot.revoke_permit(hotspot_id, company_token=own_token)
    record(
        set_permit(
            permit.id or 0,
            state=PermitState.revoked,
            hotspot_permit_id=hotspot_id,
            revoked_at=utcnow(),
        )
    )


async def withdraw_test_permits(request_id: int) -> int:
    """Revoke every test permit the request still has out (its run stops short of live);
    how many. Best effort: what HotSpot does not answer now, the sweep revokes later."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        token = crud.requester_token(session, request=request)
        mappings = crud.request_mappings(session, request_id=request_id)
        active = list(
            crud.active_permits(session, mapping_ids=[stored_id(m) for m in mappings]).values()
        )
    if active:
        async with hotspot_client() as hotspot, Recorder() as record:
            await gather_all(
                revoke_test_permit(hotspot, permit, token, record) for permit in active
            )
    return len(active)


class SweptPermit(BaseModel):
    """A test permit the sweep withdrew."""

    spot_id: str
    external_id: str
    ended: datetime


@task(name="sweep-expired-test-permits", **HOTSPOT_TASK_RETRIES)
async def sweep_expired_test_permits() -> list[SweptPermit]:
    """Revoke every test permit past its validity that the store still calls active (a run
    killed before it could withdraw it); what was revoked."""
    with session_scope() as session:
        found = [
            (permit, crud.company_token(company))
            for permit, company in crud.expired_active_permits(session, before=utcnow())
        ]
    if found:
        async with hotspot_client() as hotspot, Recorder() as record:
            await gather_all(revoke_test_permit(hotspot, p, token, record) for p, token in found)
    return [
        SweptPermit(spot_id=p.spot_id, external_id=p.external_id, ended=p.end_time)
        for p, _ in found
    ]
