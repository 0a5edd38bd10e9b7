"""The token page: a waiting request's contact gives the company's HotSpot token.

Reached only through the single-use signed link emailed to the requester
(`/f/t<link>/hotspot-token`, see `trust.links`). The token typed is tried on HotSpot at once (a
403 is shown with HotSpot's answer and the page asks again), then stored with the same answer
function as ops' `token` command and the UI's question, and the waiting onboardings continue
(the deployed run resumes; in process, the run starts again). If ops answered first, the page
says the token was already received.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from flows.questions import Question, open_question, store_token
from hotspot import HotSpotUnavailable
from store import crud
from store.db import session_scope
from store.models import HealthProblem
from tasks.canary import try_renewed_token
from tasks.token_link import TokenRefused, try_company_token, waiting_spots
from trust.links import TokenLink, UsedLink, verify_token_link
from web.security import CSRF_FIELD, check_csrf, csrf_token, form_session, keep_session
from web.templating import templates

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/f/{token}/hotspot-token", include_in_schema=False)

RECEIVED = (
    "Token already received",
    "We already have your company's HotSpot token: thank you, there is nothing more to do "
    "here. We write to you when your integration is live.",
)


def _message(request: Request, status_code: int, title: str, message: str) -> Response:
    context = {"title": title, "message": message, "hint": ""}
    return templates.TemplateResponse(request, "message.html", context, status_code=status_code)


def _waiting(link: TokenLink) -> tuple[str, list[tuple[str, str]]] | None:
    """The company's name and the SpotIDs waiting on its token (a new onboarding's, or live
    ones whose token HotSpot now refuses); None if none waits on it any more (answered
    elsewhere, or gone on)."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=link.request_id)
        company = crud.get_company(session, company_id=link.company_id)
        if open_question(session, request) == Question.token:
            return company.name, waiting_spots(session, link.request_id)
        renewing = crud.degraded_spots(
            session, company_id=link.company_id, problem=HealthProblem.token_refused
        )
        if renewing:
            return company.name, [(location.name, m.spot_id) for m, location in renewing]
        return None


def _render(
    request: Request,
    link: TokenLink,
    company: str,
    spots: list[tuple[str, str]],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    session_id = form_session(request)
    context = {
        "company": company,
        "spots": spots,
        "error": error,
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(session_id, link.token),
        "action": f"/f/{link.token}/hotspot-token",
        "expires": datetime.fromtimestamp(link.expires_at, UTC).strftime("%Y-%m-%d %H:%M"),
    }
    response = templates.TemplateResponse(request, "token.html", context, status_code=status_code)
    keep_session(request, response, session_id)
    return response


@router.get("", response_class=HTMLResponse)
def token_page(request: Request, token: str) -> Response:
    """Ask for the token (a password field), or say it was received already."""
    try:
        link = verify_token_link(token)
    except UsedLink:
        return _message(request, 200, *RECEIVED)
    waiting = _waiting(link)
    if waiting is None:
        return _message(request, 200, *RECEIVED)
    return _render(request, link, *waiting)


@router.post("", response_class=HTMLResponse)
async def give_token(request: Request, token: str) -> Response:
    """Try the token on HotSpot; refused, ask again; accepted, store it and go on."""
    try:
        link = verify_token_link(token)
    except UsedLink:
        return _message(request, 200, *RECEIVED)
    data = await request.form()
    submitted = data.get(CSRF_FIELD)
    check_csrf(request, link.token, submitted if isinstance(submitted, str) else None)
    waiting = _waiting(link)
    if waiting is None:
        with session_scope() as session:
            crud.use_token_link(session, link_id=link.link_id)
        return _message(request, 200, *RECEIVED)
    company, spots = waiting
    value = data.get("hotspot_token")
    secret = value.strip() if isinstance(value, str) else ""
    if not secret or len(secret) > 512 or not secret.isprintable():
        error = "Enter your company's HotSpot token, exactly as HotSpot gave it."
        return _render(request, link, company, spots, error=error, status_code=422)
    try:
        if not await try_renewed_token(link.company_id, secret):
            await try_company_token(link.request_id, secret)
    except TokenRefused as refused:
        error = f"HotSpot did not accept this token: {refused}. Check it and enter it again."
        return _render(request, link, company, spots, error=error, status_code=422)
    except HotSpotUnavailable:
        error = "HotSpot cannot be reached right now; please try again in a few minutes."
        return _render(request, link, company, spots, error=error, status_code=503)
    with session_scope() as session:
        if not crud.use_token_link(session, link_id=link.link_id):
            return _message(request, 200, *RECEIVED)
        found = crud.get_company(session, company_id=link.company_id)
        answered = [r.id or 0 for r in store_token(session, found, secret)]
    logger.info(
        "Request %s: %s's HotSpot token received through token link %s; continuing requests %s",
        link.request_id,
        company,
        link.link_id,
        answered,
    )
    for request_id in answered:
        await request.app.state.onboardings.start(request_id)
    if not answered:  # a renewed token of a live integration: the next check restores it
        return _message(
            request,
            200,
            "Thank you: token received",
            "HotSpot accepted your company's renewed token. Offstreet's next check of your "
            "integration (daily) restores it; there is nothing more to do.",
        )
    return _message(
        request,
        200,
        "Thank you: token received",
        "HotSpot accepted your company's token. We are finishing your integration now and "
        "will write to you when it is live.",
    )
