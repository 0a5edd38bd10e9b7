"""Questions a request waits on, and the one way each answer is applied.

A request waits on a person for one question at a time: an approval (held or unsure), the
HotSpot operator of a SpotID, a location, or the company's HotSpot token. Ops answer it in the
Prefect UI (a deployed run suspends and asks; a suspended run holds no worker) or on the command
line; both apply the answer with the same function here, and the run then goes on from the top
with the store as the truth. An answer to a question that is no longer open is logged as
ignored, with why; answers are removed from the run's input (a token must not stay there).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Literal

from prefect import get_run_logger
from prefect.client.schemas.objects import FlowRunInput
from prefect.flow_runs import asuspend_flow_run
from prefect.input import RunInput
from prefect.input.actions import adelete_flow_run_input, afilter_flow_run_input
from prefect.runtime import deployment, flow_run
from pydantic import Field, SecretStr, create_model
from sqlmodel import Session

from flows.runs import resume_to_recheck, tag_outcome
from settings import settings
from store import crud
from store.db import session_scope
from store.models import (
    Company,
    Confirmer,
    LinkPurpose,
    OnboardingRequest,
    RequestSpot,
    RequestState,
    SpotVerdict,
)
from tasks.discovery import AlreadyConfirmed, confirm_proposals, proposals
from tasks.markdown import md_text
from tasks.policy import gather_all

REJECT = "Reject the request"
ADD_OPERATOR = "Add it to the company's operators"
REFUSE_LINES = "Refuse these SpotIDs (the request is refused)"
NOT_YOUR_OPERATOR = (
    "HotSpot lists this spot under a parking operator we do not have on file for your account; "
    "please contact Offstreet support"
)
ANSWER_KEY_PREFIX = "suspended-"


class Question(StrEnum):
    """What a waiting request needs from a person, in the order they are asked."""

    approval = "approval"
    operator = "operator"
    location = "location"
    token = "token"
    proposals = "proposals"  # SpotIDs Offstreet proposed, the customer's link still open


class CompanyToken(RunInput):
    """The company's HotSpot token, as the customer gave it to ops."""

    token: SecretStr = Field(description="Stored encrypted; never shown again.")


def open_question(session: Session, request: OnboardingRequest) -> Question | None:
    """The question the request waits on now, if any."""
    if request.state.awaits_approval:
        return Question.approval
    if request.state == RequestState.finding_spot_ids:
        return Question.proposals if request.confirmed_by is None else None
    if request.state != RequestState.waiting_on_ops or request.company_id is None:
        return None
    verdicts = {line.verdict for line in crud.request_spots(session, request_id=request.id or 0)}
    if SpotVerdict.operator_unconfirmed in verdicts:
        return Question.operator
    if SpotVerdict.unknown_location in verdicts:
        return Question.location
    return Question.token


# --- asking, in a deployed run ------------------------------------------------------------


async def answer_from_ops(request_id: int) -> bool:
    """If the request waits on a person and this run is deployed, ask (or take the answer).

    Returns True when the answer lets the request go on (the flow runs its steps again);
    False when ops refused it, or there is nothing to ask here (in-process runs end on the
    waiting state instead).
    """
    if deployment.id is None:
        return False
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        question = open_question(session, request)
        key = f"{question}-{request.questions_answered}"
        form = None if question is None else _form_for(session, request, question)
    await ignore_stale_answers(keep=key)
    if question is None or form is None:
        return False
    await tag_outcome(str(flow_run.id), request.state)  # what the run waits on, as a tag
    answer = await asuspend_flow_run(
        wait_for_input=form, key=key, timeout=settings.ops_answer_timeout_seconds
    )
    others: list[OnboardingRequest] = []
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        if open_question(session, request) != question or not key.endswith(
            f"-{request.questions_answered}"
        ):
            get_run_logger().warning(
                "Ignored the answer to the %s question: it was answered elsewhere meanwhile "
                "(the command line, or the customer's token link); going on from where the "
                "request stands",
                question,
            )
            carry_on = True
        else:
            carry_on, others = APPLY[question](session, request, answer)
    await adelete_flow_run_input(f"{ANSWER_KEY_PREFIX}{key}-response")
    # The same answer (a company's token or operator) lets its other waiting requests go on.
    await gather_all(
        resume_to_recheck(other.flow_run_id)
        for other in others
        if other.id != request_id and other.flow_run_id
    )
    return carry_on


async def ignore_stale_answers(*, keep: str = "") -> None:
    """Answers given in the UI to questions no longer open: logged as ignored, then removed."""
    if deployment.id is None:
        return
    # Prefect's decorator loses the return type: named here.
    stale: list[FlowRunInput] = await afilter_flow_run_input(
        key_prefix=ANSWER_KEY_PREFIX, limit=1000, flow_run_id=flow_run.id
    )
    for answer in stale:
        if answer.key.endswith("-response") and answer.key != f"{ANSWER_KEY_PREFIX}{keep}-response":
            get_run_logger().warning(
                "Ignored an answer (%s): its question was answered elsewhere first", answer.key
            )
            await adelete_flow_run_input(answer.key)


def _form_for(session: Session, request: OnboardingRequest, question: Question) -> type[RunInput]:
    """The question as a run-input form, its description saying what is at stake."""
    lines = crud.request_spots(session, request_id=request.id or 0)
    spots = "\n".join(
        f"- {md_text(line.location)}: SpotID {md_text(line.spot_id)}" for line in lines
    )
    company = (
        crud.get_company(session, company_id=request.company_id) if request.company_id else None
    )
    name = md_text(company.name) if company else ""
    if question == Question.approval:
        companies = [c.name for c in crud.list_companies(session)]
        notes = "".join(f"\n\nNote: {md_text(note)}" for note in request.trust_notes)
        form = approval_form(companies, company.name if company else None)
        description = (
            f"**Request {request.id} from {md_text(request.sender)} is held:** "
            f"{md_text(request.reason)}{notes}\n\n"
            f"Subject: {md_text(request.subject or '—')}\n\n{spots}\n\n"
            "Approve it for a company, or reject it."
        )
    elif question == Question.operator:
        assert company is not None
        unconfirmed = [line for line in lines if line.verdict == SpotVerdict.operator_unconfirmed]
        waiting = "\n".join(
            f"- SpotID {md_text(line.spot_id)}: {md_text(line.reason)}" for line in unconfirmed
        )
        form = operator_form(unconfirmed_operators(unconfirmed), company.name)
        description = (
            f"**HotSpot names operators {name} does not have on file.**\n\n"
            f"{waiting}\n\nAdd each operator to {name} if it enforces there "
            "(its SpotIDs then go ahead), or refuse its SpotIDs."
        )
    elif question == Question.location:
        assert company is not None
        unknown = [line.location for line in lines if line.verdict == SpotVerdict.unknown_location]
        names = [loc.name for loc in crud.company_locations(session, company=company)]
        form = location_form(unknown, names)
        description = (
            f"**Request {request.id} names locations {name} does not have.**\n\n"
            f"{spots}\n\nPick the location each one means, or reject the request."
        )
    elif question == Question.proposals:
        assert company is not None
        found = proposals(session, request.id or 0)
        form = proposals_form([(pos, loc, spot) for pos, loc, spot, _ in found if spot])
        listed = "\n".join(
            f"- {md_text(loc)}: "
            + (f"SpotID {md_text(spot)} ({md_text(how)})" if spot else f"no SpotID: {md_text(how)}")
            for _, loc, spot, how in found
        )
        sent = [
            f"\n\nThe proposals were sent to {md_text(link.recipient)} on "
            f"{link.issued_at:%Y-%m-%d %H:%M} UTC with a single-use link: whichever confirmation "
            "comes first, the customer's or yours, is used."
            for link in crud.request_token_links(
                session, request_id=request.id or 0, purpose=LinkPurpose.proposal
            )
        ]
        description = (
            f"**{name} does not know its SpotIDs; Offstreet proposes these from HotSpot.**"
            f"\n\n{listed}{''.join(sent[-1:])}\n\nCheck the SpotIDs to onboard now as a "
            f"request of {name}; leave every box unchecked to wait for the customer."
        )
    else:
        assert company is not None
        waiting = "\n".join(
            f"- SpotID {md_text(mapping.spot_id)}: {md_text(mapping.reason)}"
            for mapping in crud.request_mappings(session, request_id=request.id or 0)
            if mapping.reason
        )
        form = CompanyToken
        sent = [
            f"\n\nA single-use token link was sent to {md_text(link.recipient)} on "
            f"{link.issued_at:%Y-%m-%d %H:%M} UTC (valid until {link.expires_at:%Y-%m-%d %H:%M} "
            "UTC): whichever answer comes first, the customer's or yours, is used."
            for link in crud.request_token_links(session, request_id=request.id or 0)
            if link.used_at is None and link.revoked_at is None
        ]
        description = (
            f"**{name}'s HotSpot company token is needed.**\n\n{waiting}{''.join(sent[-1:])}"
            "\n\nAsk the customer for it and paste it here: it is stored encrypted, removed "
            "from this run's input, and the TEST123 check runs again with it."
        )
    return form.with_initial_data(description=description)


def _one_of(choices: Sequence[str]) -> Any:
    """The type `Literal[*choices]`, for a form whose choices are known only at run time."""
    return Literal.__getitem__(tuple(choices))


def approval_form(companies: list[str], asking: str | None) -> type[RunInput]:
    """Approve a held request for one of the companies (the one it asks for, unless ops
    choose another on purpose), or reject it."""
    company = Field(description="The company it is for.")
    if asking in companies:
        company = Field(default=asking, description="The company it asks for; change on purpose.")
    return create_model(
        "Approval",
        __base__=RunInput,
        decision=(_one_of(["approve", "reject"]), Field(description="Let it run, or refuse it.")),
        company=(_one_of(companies), company),
        note=(str, Field(default="", description="Why (kept with the request).")),
    )


def operator_form(operators: list[str], company: str) -> type[RunInput]:
    """For each HotSpot operator not on the company's file: add it, or refuse its SpotIDs."""
    choice = _one_of([ADD_OPERATOR, REFUSE_LINES])
    fields: dict[str, Any] = {
        f"operator_{n}": (choice, Field(title=f"{name!r} for {company}"))
        for n, name in enumerate(operators)
    }
    return create_model("OperatorChoice", __base__=RunInput, **fields)


def location_form(unknown: list[str], locations: list[str]) -> type[RunInput]:
    """For each location the company does not have: which of its locations is meant."""
    choice = _one_of([*locations, REJECT])
    fields: dict[str, Any] = {
        f"location_{n}": (choice, Field(title=f"'{name}' is")) for n, name in enumerate(unknown)
    }
    return create_model("LocationChoice", __base__=RunInput, **fields)


def proposals_form(lines: list[tuple[int, str, str]]) -> type[RunInput]:
    """One checkbox per proposed SpotID (position, location, SpotID), checked by default."""
    fields: dict[str, Any] = {
        f"spot_{position}": (bool, Field(default=True, title=f"{location}: SpotID {spot_id}"))
        for position, location, spot_id in lines
    }
    return create_model("ProposalsConfirmation", __base__=RunInput, **fields)


def unconfirmed_operators(lines: Sequence[RequestSpot]) -> list[str]:
    """The operators HotSpot named for lines waiting on confirmation, in request order."""
    operators = []
    for line in lines:
        operator = line.hotspot_operator
        if operator and operator not in operators:
            operators.append(operator)
    return operators


# --- answering: one function per answer, for the UI and the command line -------------------


def mark_answered(session: Session, request: OnboardingRequest) -> None:
    """The request's open question is answered: it runs again from validation."""
    request.questions_answered += 1
    crud.set_request_state(session, request=request, state=RequestState.received, reason=None)


def reject(session: Session, request: OnboardingRequest, why: str) -> None:
    """Ops refuse the request for good (its run then ends Failed, the customer is told)."""
    request.questions_answered += 1
    crud.reject_by_ops(session, request=request, why=why)


def approve(session: Session, request: OnboardingRequest, company: Company) -> None:
    """Ops let a held request run, for the company it asks for or one they name."""
    crud.approve_request(session, request=request, company=company)
    mark_answered(session, request)


def store_token(session: Session, company: Company, token: str) -> list[OnboardingRequest]:
    """Store the company's token; its requests that waited on it (now answered).

    The one answer to the token question, whoever gives it (ops in the UI, `token` on the
    command line, the customer on the token link's page): the company's token links that are
    still open then say the token was received.
    """
    crud.set_company_token(session, company=company, token=token)
    crud.close_token_links(session, company_id=company.id or 0)
    return _answer_waiting(session, company, Question.token)


def confirm_operator(session: Session, company: Company, operator: str) -> list[OnboardingRequest]:
    """Let the company map the operator's spots; its requests that waited on operators."""
    crud.add_hotspot_operator(session, company=company, operator=operator)
    return _answer_waiting(session, company, Question.operator)


def _answer_waiting(
    session: Session, company: Company, question: Question
) -> list[OnboardingRequest]:
    waiting = [
        request
        for request in crud.company_requests(
            session, company_id=company.id or 0, state=RequestState.waiting_on_ops
        )
        if open_question(session, request) == question
    ]
    for request in waiting:
        mark_answered(session, request)
    return waiting


# What applying an answer in a run leads to: whether its request goes on, and the company's
# other requests the same answer let go on.
Applied = tuple[bool, list[OnboardingRequest]]


def _apply_token(session: Session, request: OnboardingRequest, answer: Any) -> Applied:
    company = crud.get_company(session, company_id=request.company_id or 0)
    answered = store_token(session, company, answer.token.get_secret_value())
    if request.state == RequestState.waiting_on_ops:
        mark_answered(session, request)
    return True, answered


def _apply_approval(session: Session, request: OnboardingRequest, answer: Any) -> Applied:
    if answer.decision != "approve":
        reject(session, request, answer.note or "no reason given")
        return False, []
    company = crud.get_company_by_name(session, name=answer.company)
    assert company is not None, "the form offers only known companies"
    approve(session, request, company)
    return True, []


def _apply_operator(session: Session, request: OnboardingRequest, answer: Any) -> Applied:
    """Add each confirmed operator to the company; refusing one refuses its SpotIDs."""
    company = crud.get_company(session, company_id=request.company_id or 0)
    lines = crud.request_spots(session, request_id=request.id or 0)
    unconfirmed = [line for line in lines if line.verdict == SpotVerdict.operator_unconfirmed]
    operators = unconfirmed_operators(unconfirmed)
    choices = {op: getattr(answer, f"operator_{n}") for n, op in enumerate(operators)}
    refused = [line for line in unconfirmed if choices[line.hotspot_operator or ""] != ADD_OPERATOR]
    for line in refused:
        crud.set_verdict(
            session,
            line=line,
            verdict=SpotVerdict.rejected,
            reason=f"refused by ops: HotSpot operator {line.hotspot_operator!r} is not "
            f"{company.name}'s",
            customer_reason=NOT_YOUR_OPERATOR,
            hotspot_operator=line.hotspot_operator,
        )
    if refused:
        reject(session, request, f"{len(refused)} SpotIDs of another operator")
        return False, []
    answered = [other for op in operators for other in confirm_operator(session, company, op)]
    if request.state == RequestState.waiting_on_ops:
        mark_answered(session, request)
    return True, answered


def _apply_location(session: Session, request: OnboardingRequest, answer: Any) -> Applied:
    unknown = [
        line
        for line in crud.request_spots(session, request_id=request.id or 0)
        if line.verdict == SpotVerdict.unknown_location
    ]
    choices = [getattr(answer, f"location_{n}") for n in range(len(unknown))]
    if REJECT in choices:
        reject(session, request, "it names locations we do not have")
        return False, []
    for line, choice in zip(unknown, choices, strict=True):
        crud.set_line_location(session, line=line, location=choice)
    mark_answered(session, request)
    return True, []


def _apply_proposals(session: Session, request: OnboardingRequest, answer: Any) -> Applied:
    """Ops confirm the checked SpotIDs: they become the company's request (its run is started
    by the flow); none checked leaves the proposals to the customer's link."""
    request_id = request.id or 0
    positions = [
        position
        for position, _, spot_id, _ in proposals(session, request_id)
        if spot_id and getattr(answer, f"spot_{position}", False)
    ]
    if not positions:
        get_run_logger().info("No SpotID confirmed by ops: the customer's link stays open")
        return False, []
    try:
        confirm_proposals(request_id, positions, by=Confirmer.ops)
    except AlreadyConfirmed as first:
        get_run_logger().warning("Ignored ops' confirmation: %s", first)
    return False, []


APPLY = {
    Question.token: _apply_token,
    Question.approval: _apply_approval,
    Question.operator: _apply_operator,
    Question.location: _apply_location,
    Question.proposals: _apply_proposals,
}
