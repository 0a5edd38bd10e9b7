"""Questions the onboarding flow asks ops in the Prefect UI, with the run suspended.

A suspended run holds no worker. When ops answer (a form in the UI, or the API), Prefect
starts the run again from the top; the same question, asked with the same key, then returns
the answer at once. Each answer is applied to the store and removed from the run's input
(a token must not stay there), and the next question gets a new key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from prefect.flow_runs import asuspend_flow_run
from prefect.input import RunInput
from prefect.input.actions import adelete_flow_run_input
from prefect.runtime import deployment
from pydantic import Field, SecretStr, create_model

from settings import settings
from store import crud
from store.db import session_scope
from store.models import (
    WAITING_FOR_A_PERSON,
    OnboardingRequest,
    RequestSpot,
    RequestState,
    SpotVerdict,
)

REJECT = "Reject the request"


class CompanyToken(RunInput):
    """The company's HotSpot token, as the customer gave it to ops."""

    token: SecretStr = Field(description="Stored encrypted; never shown again.")


def approval_form(companies: list[str], asking: str | None) -> type[RunInput]:
    """Approve a held request for one of the companies (the one it asks for, unless ops
    choose another on purpose), or reject it."""
    company = Field(description="The company it is for.")
    if asking in companies:
        company = Field(default=asking, description="The company it asks for; change on purpose.")
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Approval",
        __base__=RunInput,
        decision=(Literal["approve", "reject"], Field(description="Let it run, or refuse it.")),
        company=(Literal[tuple(companies)], company),
        note=(str, Field(default="", description="Why (kept with the request).")),
    )


ADD_OPERATOR = "Add it to the company's operators"
REFUSE_LINES = "Refuse these SpotIDs (the request is refused)"
NOT_YOUR_OPERATOR = (
    "HotSpot lists this spot under a parking operator we do not have on file for your account; "
    "please contact Offstreet support"
)


def operator_form(operators: list[str], company: str) -> type[RunInput]:
    """For each HotSpot operator not on the company's file: add it, or refuse its SpotIDs."""
    choice = Literal[ADD_OPERATOR, REFUSE_LINES]
    fields: dict[str, Any] = {
        f"operator_{n}": (choice, Field(title=f"{name!r} for {company}"))
        for n, name in enumerate(operators)
    }
    return create_model("OperatorChoice", __base__=RunInput, **fields)  # type: ignore[call-overload,no-any-return]


def location_form(unknown: list[str], locations: list[str]) -> type[RunInput]:
    """For each location the company does not have: which of its locations is meant."""
    choice = Literal[(*locations, REJECT)]  # type: ignore[valid-type]
    fields: dict[str, Any] = {
        f"location_{n}": (choice, Field(title=f"'{name}' is")) for n, name in enumerate(unknown)
    }
    return create_model("LocationChoice", __base__=RunInput, **fields)  # type: ignore[call-overload,no-any-return]


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
        question = _question_for(session, request)
        if question is None:
            return False
        kind, form, description = question
        key = f"{kind}-{request.questions_answered}"
    answer = await asuspend_flow_run(
        wait_for_input=form.with_initial_data(description=description),
        key=key,
        timeout=settings.ops_answer_timeout_seconds,
    )
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        carry_on = _apply(session, request, kind, answer)
        request.questions_answered += 1
    await adelete_flow_run_input(f"suspended-{key}-response")  # the token must not stay there
    return carry_on


def _question_for(
    session: Any, request: OnboardingRequest
) -> tuple[str, type[RunInput], str] | None:
    companies = [c.name for c in crud.list_companies(session)]
    lines = crud.request_spots(session, request_id=request.id or 0)
    spots = "\n".join(f"- {line.location}: SpotID {line.spot_id}" for line in lines)
    if request.state in WAITING_FOR_A_PERSON:
        notes = "".join(f"\n\nNote: {note}" for note in request.trust_notes)
        asking = crud.company_names(session, company_ids=[request.company_id or 0])
        return (
            "approval",
            approval_form(companies, asking.get(request.company_id or 0)),
            (
                f"**Request {request.id} from {request.sender} is held:** {request.reason}"
                f"{notes}\n\nSubject: {request.subject or '—'}\n\n{spots}\n\n"
                "Approve it for a company, or reject it."
            ),
        )
    if request.state != RequestState.waiting_on_ops or request.company_id is None:
        return None
    company = crud.get_company(session, company_id=request.company_id)
    unconfirmed = [line for line in lines if line.verdict == SpotVerdict.operator_unconfirmed]
    if unconfirmed:
        waiting = "\n".join(f"- SpotID {line.spot_id}: {line.reason}" for line in unconfirmed)
        return (
            "operator",
            operator_form(unconfirmed_operators(unconfirmed), company.name),
            (
                f"**HotSpot names operators {company.name} does not have on file.**\n\n"
                f"{waiting}\n\nAdd each operator to {company.name} if it enforces there "
                "(its SpotIDs then go ahead), or refuse its SpotIDs."
            ),
        )
    unknown = [line for line in lines if line.verdict == SpotVerdict.unknown_location]
    if unknown:
        names = [loc.name for loc in crud.company_locations(session, company=company)]
        return (
            "location",
            location_form([line.location for line in unknown], names),
            (
                f"**Request {request.id} names locations {company.name} does not have.**\n\n"
                f"{spots}\n\nPick the location each one means, or reject the request."
            ),
        )
    waiting = "\n".join(
        f"- SpotID {mapping.spot_id}: {mapping.reason}"
        for mapping in crud.request_mappings(session, request_id=request.id or 0)
        if mapping.reason
    )
    return (
        "token",
        CompanyToken,
        (
            f"**{company.name}'s HotSpot company token is needed.**\n\n{waiting}\n\n"
            "Ask the customer for it and paste it here: it is stored encrypted, removed "
            "from this run's input, and the TEST123 check runs again with it."
        ),
    )


def unconfirmed_operators(lines: Sequence[RequestSpot]) -> list[str]:
    """The operators HotSpot named for lines waiting on confirmation, in request order."""
    operators = []
    for line in lines:
        operator = line.hotspot_operator
        if operator and operator not in operators:
            operators.append(operator)
    return operators


def _apply(session: Any, request: OnboardingRequest, kind: str, answer: Any) -> bool:
    """Record ops' answer; True when the request should run again from validation."""
    carry_on = APPLY[kind](session, request, answer)
    if carry_on:
        crud.set_request_state(session, request=request, state=RequestState.received, reason=None)
    return carry_on


def _apply_token(session: Any, request: OnboardingRequest, answer: Any) -> bool:
    company = crud.get_company(session, company_id=request.company_id or 0)
    crud.set_company_token(session, company=company, token=answer.token.get_secret_value())
    return True


def _apply_approval(session: Any, request: OnboardingRequest, answer: Any) -> bool:
    if answer.decision != "approve":
        crud.reject_by_ops(session, request=request, why=answer.note or "no reason given")
        return False
    company = crud.get_company_by_name(session, name=answer.company)
    crud.approve_request(session, request=request, company=company)
    return True


def _apply_operator(session: Any, request: OnboardingRequest, answer: Any) -> bool:
    """Add each confirmed operator to the company; refusing one refuses its SpotIDs."""
    company = crud.get_company(session, company_id=request.company_id or 0)
    lines = crud.request_spots(session, request_id=request.id or 0)
    unconfirmed = [line for line in lines if line.verdict == SpotVerdict.operator_unconfirmed]
    operators = unconfirmed_operators(unconfirmed)
    choices = {op: getattr(answer, f"operator_{n}") for n, op in enumerate(operators)}
    refused = [line for line in unconfirmed if choices[line.hotspot_operator] != ADD_OPERATOR]
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
        why = f"{len(refused)} SpotIDs of another operator"
        crud.reject_by_ops(session, request=request, why=why)
        return False
    for operator in operators:
        crud.add_hotspot_operator(session, company=company, operator=operator)
    return True


def _apply_location(session: Any, request: OnboardingRequest, answer: Any) -> bool:
    unknown = [
        line
        for line in crud.request_spots(session, request_id=request.id or 0)
        if line.verdict == SpotVerdict.unknown_location
    ]
    choices = [getattr(answer, f"location_{n}") for n in range(len(unknown))]
    if REJECT in choices:
        crud.reject_by_ops(session, request=request, why="it names locations we do not have")
        return False
    for line, choice in zip(unknown, choices, strict=True):
        crud.set_line_location(session, line=line, location=choice)
    return True


APPLY = {
    "token": _apply_token,
    "approval": _apply_approval,
    "operator": _apply_operator,
    "location": _apply_location,
}
