"""Questions the onboarding flow asks ops in the Prefect UI, with the run suspended.

A suspended run holds no worker. When ops answer (a form in the UI, or the API), Prefect
starts the run again from the top; the same question, asked with the same key, then returns
the answer at once. Each answer is applied to the store and removed from the run's input
(a token must not stay there), and the next question gets a new key.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect.flow_runs import asuspend_flow_run
from prefect.input import RunInput
from prefect.input.actions import adelete_flow_run_input
from prefect.runtime import deployment
from pydantic import Field, SecretStr, create_model

from settings import settings
from store import crud
from store.db import session_scope
from store.models import OnboardingRequest, RequestState, SpotVerdict
from tasks.markdown import md_text
from tasks.validate import WAITING_FOR_A_PERSON

REJECT = "Reject the request"


class CompanyToken(RunInput):
    """The company's HotSpot token, as the customer gave it to ops."""

    token: SecretStr = Field(description="Stored encrypted; never shown again.")


def approval_form(companies: list[str]) -> type[RunInput]:
    """Approve a held request for one of the companies, or reject it."""
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Approval",
        __base__=RunInput,
        decision=(Literal["approve", "reject"], Field(description="Let it run, or refuse it.")),
        company=(Literal[tuple(companies)], Field(description="The company it is for.")),
        note=(str, Field(default="", description="Why (kept with the request).")),
    )


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
    spots = "\n".join(
        f"- {md_text(line.location)}: SpotID {md_text(line.spot_id)}" for line in lines
    )
    if request.state in WAITING_FOR_A_PERSON:
        return (
            "approval",
            approval_form(companies),
            (
                f"**Request {request.id} from {md_text(request.sender)} is held:** "
                f"{md_text(request.reason)}\n\n"
                f"Subject: {md_text(request.subject or '—')}\n\n{spots}\n\n"
                "Approve it for a company, or reject it."
            ),
        )
    if request.state == RequestState.waiting_on_ops and request.company_id is not None:
        company = crud.get_company(session, company_id=request.company_id)
        waiting = "\n".join(
            f"- SpotID {md_text(mapping.spot_id)}: {md_text(mapping.reason)}"
            for mapping in crud.request_mappings(session, request_id=request.id or 0)
            if mapping.reason
        )
        return (
            "token",
            CompanyToken,
            (
                f"**{md_text(company.name)}'s HotSpot company token is needed.**\n\n"
                f"{waiting}\n\n"
                "Ask the customer for it and paste it here: it is stored encrypted, removed "
                "from this run's input, and the TEST123 check runs again with it."
            ),
        )
    unknown = [line for line in lines if line.verdict == SpotVerdict.unknown_location]
    others = [line for line in lines if line.verdict == SpotVerdict.rejected]
    if request.state == RequestState.rejected and unknown and not others:
        company = crud.get_company(session, company_id=request.company_id or 0)
        names = [loc.name for loc in crud.company_locations(session, company=company)]
        return (
            "location",
            location_form([line.location for line in unknown], names),
            (
                f"**Request {request.id} names locations {md_text(company.name)} does not "
                f"have.**\n\n"
                f"{spots}\n\nPick the location each one means, or reject the request."
            ),
        )
    return None


def _apply(session: Any, request: OnboardingRequest, kind: str, answer: Any) -> bool:
    """Record ops' answer; True when the request should run again from validation."""
    if kind == "token":
        company = crud.get_company(session, company_id=request.company_id or 0)
        crud.set_company_token(session, company=company, token=answer.token.get_secret_value())
    elif kind == "approval" and answer.decision == "approve":
        company = crud.get_company_by_name(session, name=answer.company)
        crud.approve_request(session, request=request, company=company)
    elif kind == "approval":
        crud.reject_by_ops(session, request=request, why=answer.note or "no reason given")
        return False
    else:
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
    crud.set_request_state(session, request=request, state=RequestState.received, reason=None)
    return True
