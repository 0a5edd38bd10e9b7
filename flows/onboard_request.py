"""The onboarding flow: one run per SpotID request, the integration guide's six steps.

The store is the source of truth: every step reads where the request stands and does only
what is left, so a failed or interrupted run can simply be run again.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import FlowRun, State
from prefect.runtime import flow_run
from prefect.states import Cancelled, Completed, Failed, Paused

from flows.questions import answer_from_ops, ignore_stale_answers
from flows.runs import tag_outcome
from inbox.replies import ReplyKind
from settings import settings
from store import crud
from store.db import session_scope
from store.models import Phase, RequestState
from store.schemas import RequestOutcome
from tasks.golive import mark_live
from tasks.intake import deployed, starts_a_run
from tasks.integration import check_existing_integration
from tasks.lease import RequestBusy, RequestLease
from tasks.mappings import create_mappings
from tasks.outcome import note_flow_run, record_outcome
from tasks.permits import issue_test_permits, withdraw_test_permits
from tasks.replies import reply_to_requester
from tasks.reports import publish_spot_table, publish_summary
from tasks.token_link import offer_token_link
from tasks.validate import validate_spot_ids
from tasks.verify import verify_test_permits


def run_name() -> str:
    """Runs are named for the company and the request, as ops look for them."""
    return request_run_name(flow_run.parameters["request_id"])


def request_run_name(request_id: int) -> str:
    """`Acme Parking · request 12` (the sender when no company is known yet)."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        names = crud.company_names(session, company_ids=[request.company_id or 0])
    asking = names.get(request.company_id or 0) or request.sender or "unknown sender"
    return f"{asking} · request {request_id}"


REPLY_BY_STATE = {RequestState.live: ReplyKind.live, RequestState.rejected: ReplyKind.refusal}


def outcome_of(state: State[Any]) -> RequestOutcome | None:
    """The business outcome a run ended on, or None when it ended on an error."""
    data = getattr(state.data, "result", state.data)  # a persisted result holds it inside
    return data if isinstance(data, RequestOutcome) else None


async def record_crash(flow: Any, flow_run: FlowRun, state: State[Any]) -> None:
    """A run that ended on an error (not an outcome) leaves the request `failed`, with why,
    and withdraws the test permits it will not verify. Unless another run has the request
    by now: then that run's truth stands."""
    if outcome_of(state) is not None:
        return
    request_id = flow_run.parameters["request_id"]
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        if request.flow_run_id != str(flow_run.id) or request.lease_owner is not None:
            return
        crud.set_request_state(
            session,
            request=request,
            state=RequestState.failed,
            reason=f"{state.message}; retry with `hotspot-onboard retry {request_id}`",
        )
    try:
        withdrawn = await withdraw_test_permits(request_id)
    except Exception as exc:  # HotSpot is down too: the sweep revokes them later
        get_run_logger().warning("Test permits not withdrawn now (%s); the sweep will", exc)
        return
    if withdrawn:
        get_run_logger().info("Withdrew %d test permits this run will not verify", withdrawn)


def final_state(outcome: RequestOutcome) -> State[RequestOutcome]:
    """Prefect's own states, so its filters, dashboard and events tell the truth: Completed
    when live, Paused while a person must answer (a deployed run suspends to ask instead),
    Failed when refused or not live. The business outcome is the message and the data."""
    if outcome.state.phase == Phase.done:
        return Completed(message=outcome.headline, data=outcome)
    if outcome.waits_on_a_person:
        return Paused(
            timeout_seconds=settings.ops_answer_timeout_seconds,
            reschedule=False,
            pause_key=f"request-{outcome.request_id}-waits-on-ops",
            message=outcome.headline,
            data=outcome,
        )
    return Failed(message=outcome.headline, data=outcome)


@flow(
    name="onboard-request",
    flow_run_name=run_name,
    on_failure=[record_crash],
    on_crashed=[record_crash],
)
async def onboard_request(
    request_id: int, verify_timeout: float | None = None
) -> State[RequestOutcome]:
    """Take one SpotID request to a live HotSpot integration, or say why not."""
    try:
        # One run at a time per request: a second one stops here, naming the one at work.
        async with RequestLease(request_id):
            await note_flow_run(request_id)
            if await proposes_spot_ids(request_id):
                # A contact who did not know its SpotIDs: Offstreet's proposals wait for the
                # customer's link, or ops confirm them here; what is confirmed runs as a
                # request of its own.
                await answer_from_ops(request_id)
                await start_confirmed(request_id)
                return await conclude(request_id)
            # A deployed run asks ops in the UI when a person must decide (a token, an
            # approval, a location, an operator) and runs the steps again with the answer;
            # in-process runs end waiting.
            while await onboard_once(request_id, verify_timeout) and await answer_from_ops(
                request_id
            ):
                pass
            return await conclude(request_id)
    except RequestBusy as busy:
        get_run_logger().warning("%s", busy)
        return Cancelled(message=str(busy))


async def proposes_spot_ids(request_id: int) -> bool:
    """Whether the request is SpotIDs Offstreet proposed (to confirm), not an onboarding."""
    with session_scope() as session:
        return crud.get_request(session, request_id=request_id).state == (
            RequestState.finding_spot_ids
        )


async def start_confirmed(request_id: int) -> None:
    """On a worker: start the onboarding of the request that ops' confirmation made (the
    customer's page starts its own), unless it has its run."""
    from flows.launch import start_onboarding  # imported here: it starts runs of this flow

    with session_scope() as session:
        confirmed_as = crud.get_request(session, request_id=request_id).confirmed_as
        if confirmed_as is None:
            return
        confirmed = crud.get_request(session, request_id=confirmed_as)
        starts = confirmed.flow_run_id is None and starts_a_run(confirmed.state)
    if starts and deployed():
        await start_onboarding(confirmed_as)


async def onboard_once(request_id: int, verify_timeout: float | None) -> bool:
    """The guide's six steps; True when the request then waits on a person."""
    if await answer_from_ops(request_id):  # a resumed run: ops answered while it was suspended
        await publish_spot_table(request_id)

    # 1. Validate the SpotIDs: format, duplicates, the company's locations, HotSpot, owner.
    validation = await validate_spot_ids(request_id)
    await publish_spot_table(request_id)
    if validation.problems:
        return (await record_outcome(request_id)).waits_on_a_person

    # 2. Check for an existing integration: set up once; later requests add locations.
    await check_existing_integration(request_id)

    # 3. Map each new SpotID to its location, in one transaction (unless another request
    #    claimed one of them first: then nothing is applied).
    claimed = await create_mappings(request_id)
    await publish_spot_table(request_id)
    if not claimed:
        return (await record_outcome(request_id)).waits_on_a_person

    # 4. Issue a TEST123 permit at each SpotID not yet verified.
    await issue_test_permits(request_id)
    await publish_spot_table(request_id)

    # 5. Poll HotSpot's enforcement lookup until each permit shows, or time runs out.
    await verify_test_permits(request_id, verify_timeout)

    # 6. Mark verified SpotIDs live and revoke their test permits.
    await mark_live(request_id)
    outcome = await record_outcome(request_id)
    if outcome.waits_on_a_person:
        # Waiting on the company's token: its contact gets a single-use link to give it.
        await offer_token_link(request_id)
    return outcome.waits_on_a_person


async def conclude(request_id: int) -> State[RequestOutcome]:
    """Settle the request's state, tell the customer if it is final, end the run on it."""
    with session_scope() as session:
        outcome = crud.request_outcome(session, request_id=request_id)
    get_run_logger().info(outcome.headline)
    await ignore_stale_answers()  # an answer given too late is logged, never silently dropped
    await tag_outcome(str(flow_run.id), outcome.state)
    await publish_spot_table(request_id)
    await publish_summary(outcome)
    if outcome.state in REPLY_BY_STATE:
        await reply_to_requester(request_id, REPLY_BY_STATE[outcome.state])
    return final_state(outcome)
