"""The proposals page: a contact who did not know its SpotIDs confirms the ones Offstreet
found in HotSpot. Reached only through the single-use signed link emailed to the requester
(`/f/p<link>/spot-ids`, see `trust.links`); confirmed lines become a normal request, read and
admitted like a form (`web.submit`), which starts its onboarding."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from store import crud
from store.db import session_scope
from store.models import Confirmer, LinkPurpose, RequestState
from tasks.discovery import AlreadyConfirmed, confirm_proposals, proposals
from tasks.intake import starts_a_run
from trust.links import TokenLink, UsedLink, issue_link, verify_token_link
from web.security import CSRF_FIELD, check_csrf, csrf_token, form_session, keep_session
from web.templating import templates

router = APIRouter(prefix="/f/{token}/spot-ids", include_in_schema=False)

DONE = (
    "SpotIDs already confirmed",
    "These SpotIDs were confirmed already (by you or by Offstreet): there is nothing more to "
    "do here. We write to you when your integration is live.",
)


def _message(request: Request, title: str, message: str) -> Response:
    context = {"title": title, "message": message, "hint": ""}
    return templates.TemplateResponse(request, "message.html", context)


def _open(link: TokenLink) -> tuple[str, list[tuple[int, str, str, str]]] | None:
    with session_scope() as session:
        request = crud.get_request(session, request_id=link.request_id)
        if request.state != RequestState.finding_spot_ids or request.confirmed_by is not None:
            return None
        company = crud.get_company(session, company_id=link.company_id)
        return company.name, proposals(session, link.request_id)


def _render(
    request: Request,
    link: TokenLink,
    company: str,
    lines: list[tuple[int, str, str, str]],
    error: str | None = None,
) -> Response:
    session_id = form_session(request)
    context = {
        "company": company,
        "proposals": lines,
        "error": error,
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(session_id, link.token),
        "action": f"/f/{link.token}/spot-ids",
        "expires": datetime.fromtimestamp(link.expires_at, UTC).strftime("%Y-%m-%d %H:%M"),
    }
    response = templates.TemplateResponse(
        request, "proposals.html", context, status_code=422 if error else 200
    )
    keep_session(request, response, session_id)
    return response


@router.get("", response_class=HTMLResponse)
def proposals_page(request: Request, token: str) -> Response:
    try:
        link = verify_token_link(token, purpose=LinkPurpose.proposal)
    except UsedLink:
        return _message(request, *DONE)
    found = _open(link)
    return _message(request, *DONE) if found is None else _render(request, link, *found)


@router.post("", response_class=HTMLResponse)
async def confirm(request: Request, token: str) -> Response:
    """The checked lines become a request of the company, onboarded like a form's."""
    try:
        link = verify_token_link(token, purpose=LinkPurpose.proposal)
    except UsedLink:
        return _message(request, *DONE)
    data = await request.form()
    submitted = data.get(CSRF_FIELD)
    check_csrf(request, link.token, submitted if isinstance(submitted, str) else None)
    found = _open(link)
    if found is None:
        return _message(request, *DONE)
    positions = [int(v) for v in data.getlist("confirm") if isinstance(v, str) and v.isdigit()]
    try:
        confirmed = confirm_proposals(
            link.request_id, positions, by=Confirmer.customer, link_id=link.link_id
        )
    except AlreadyConfirmed:
        return _message(request, *DONE)
    if confirmed is None:
        return _render(request, link, *found, error="Check at least one SpotID to confirm.")
    new_id, state, created = confirmed
    if created and starts_a_run(state):
        await request.app.state.onboardings.start(new_id)
    status = issue_link(link.company_id)  # a form link of the company, to follow the request
    target = status.url.split("/f/", 1)[1]
    return RedirectResponse(f"/f/{target}/requests/{new_id}?sent=1", status_code=303)
