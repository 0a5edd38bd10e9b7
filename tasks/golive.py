"""Step 6: mark verified SpotIDs live and withdraw their test permits."""

from __future__ import annotations

from prefect import get_run_logger, task

from store import crud
from store.db import session_scope
from store.models import MappingState, PermitState, stored_id
from tasks.permits import revoke_test_permit
from tasks.policy import HOTSPOT_TASK_RETRIES, gather_all, hotspot_client
from tasks.recorder import Recorder


@task(name="mark-live", **HOTSPOT_TASK_RETRIES)
async def mark_live(request_id: int) -> list[str]:
    """Revoke each verified mapping's TEST123, then mark it and the integration live."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        token = crud.requester_token(session, request=request)
        verified = [
            m
            for m in crud.request_mappings(session, request_id=request_id)
            if m.state == MappingState.verified
        ]
        permits = [
            p
            for p in crud.active_permits(
                session, mapping_ids=[stored_id(m) for m in verified]
            ).values()
            if p.state in (PermitState.issued, PermitState.visible)
        ]
    async with hotspot_client() as hotspot, Recorder() as record:
        await gather_all(revoke_test_permit(hotspot, p, token, record) for p in permits)
    with session_scope() as session:
        for mapping in verified:
            crud.set_mapping_state(
                session,
                mapping_id=mapping.id or 0,
                state=MappingState.live,
                expected=(MappingState.verified,),
            )
            crud.mark_integration_live(session, integration_id=mapping.integration_id)
    live = [m.spot_id for m in verified]
    if live:
        get_run_logger().info("Live: %s (test permits revoked)", ", ".join(live))
    return live
