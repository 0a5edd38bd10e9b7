"""The last step: settle the request's state from its SpotIDs and say what comes next."""

from __future__ import annotations

from prefect import task
from prefect.runtime import flow_run
from sqlmodel import Session

from store import crud
from store.db import session_scope
from store.models import MappingState, RequestState, SpotVerdict
from store.schemas import RequestOutcome

# The states the six steps pass through; the outcome settles a request only from these.
IN_PROGRESS = (
    RequestState.validated,
    RequestState.mapped,
    RequestState.test_issued,
    RequestState.verified,
)


@task(name="note-flow-run")
async def note_flow_run(request_id: int) -> None:
    """Note this run on the request first, so intake never starts a second one for it."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        crud.set_flow_run(session, request=request, flow_run_id=str(flow_run.id))


@task(name="record-outcome")
async def record_outcome(request_id: int) -> RequestOutcome:
    """Live when every SpotID is live; otherwise what ops must do, in one sentence."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        if request.state in IN_PROGRESS:  # not refused, held or waiting since validation
            state, reason = _settle(session, request_id=request_id)
            crud.set_request_state(session, request=request, state=state, reason=reason)
        return crud.request_outcome(session, request_id=request_id)


def _settle(session: Session, *, request_id: int) -> tuple[RequestState, str | None]:
    request = crud.get_request(session, request_id=request_id)
    company = crud.get_company(session, company_id=request.company_id or 0)
    mappings = crud.request_mappings(session, request_id=request_id)
    waiting = [m.spot_id for m in mappings if m.state == MappingState.waiting_on_ops]
    # A degraded mapping went live: the health check, not the request, looks after it.
    settled = (MappingState.live, MappingState.degraded, MappingState.waiting_on_ops)
    stuck = [m for m in mappings if m.state not in settled]
    retry = f"`hotspot-onboard retry {request_id}`"
    if stuck:
        problems = "; ".join(
            f"SpotID {m.spot_id}: {m.reason or f'stopped at {m.state.value}'}" for m in stuck
        )
        return RequestState.failed, f"{problems}; fix that, then run {retry}"
    if waiting:
        return RequestState.waiting_on_ops, (
            f"a valid HotSpot company token from {company.name} is needed for SpotID "
            f'{", ".join(waiting)}: give it with `hotspot-onboard token "{company.name}"` '
            "(it reads the token from stdin and continues the request) or in the Prefect UI"
        )
    lines = crud.request_spots(session, request_id=request_id)
    if all(line.verdict == SpotVerdict.already_live for line in lines):
        return RequestState.live, "every SpotID was already live; nothing changed"
    return RequestState.live, None
