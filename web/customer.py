"""The customer's pages, all under a signed link `/f/{token}`: the form and the status pages.

The link names the company: a customer sees only that company's locations and requests.
Everything works without JavaScript; `form.js` and `status.js` only make it quicker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import zip_longest
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import ImmutableMultiDict

from parsers import NotASpotIDRequest, UnreadableInput
from parsers.form import form_json
from store import crud
from store.db import session_scope
from trust.links import FormLink, LinkError, verify_token
from web.checks import Row, TooManyChecks, check_rows, hotspot_problems, local_problems
from web.security import CSRF_FIELD, check_csrf, csrf_token, form_session, keep_session
from web.status import STEPS, status_view
from web.submit import submit_form
from web.templating import templates

router = APIRouter(prefix="/f/{token}", include_in_schema=False)

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
# Rows read from one post; Starlette reads at most 1000 form fields (two per row).
MAX_ROWS = 400
RequestId = Annotated[int, Path(ge=1, le=2**53)]


@dataclass(frozen=True)
class LinkedCompany:
    """The company a verified link opens the form for, with its locations' names."""

    link: FormLink
    name: str
    locations: list[str]
    operators: list[str]


def linked_company(token: str) -> LinkedCompany:
    """Verify the link (403 if forged or expired) and load its company."""
    link = verify_token(token)
    with session_scope() as session:
        company = crud.find_company(session, company_id=link.company_id)
        if company is None:
            raise LinkError("This link's company is no longer registered with Offstreet.")
        locations = [loc.name for loc in crud.company_locations(session, company=company)]
        operators = list(company.hotspot_operators)
    return LinkedCompany(link=link, name=company.name, locations=locations, operators=operators)


Linked = Annotated[LinkedCompany, Depends(linked_company)]


def read_rows(data: ImmutableMultiDict[str, Any]) -> list[Row]:
    """The form's rows from parallel `location` / `spot_id` fields, text only, trimmed."""
    pairs = zip_longest(data.getlist("location"), data.getlist("spot_id"), fillvalue="")
    return [
        Row(location=_text(location), spot_id=_text(spot_id))
        for location, spot_id in list(pairs)[:MAX_ROWS]
    ]


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def render_form(
    request: Request,
    linked: LinkedCompany,
    *,
    rows: list[Row],
    email: str = "",
    email_error: str | None = None,
    form_error: str | None = None,
    status_code: int = 200,
) -> Response:
    errors = [{"field": "contact_email", "message": email_error}] if email_error else []
    if form_error:
        errors.append({"field": "spot_id-0", "message": form_error})
    errors += [
        {"field": f"spot_id-{i}", "message": f"{row.location or f'Row {i + 1}'}: {row.error}"}
        for i, row in enumerate(rows)
        if row.error
    ]
    session_id = form_session(request)
    context = {
        "company": linked.name,
        "locations": linked.locations,
        "rows": rows,
        "email": email,
        "email_error": email_error,
        "errors": errors,
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(session_id, linked.link.token),
        "base": f"/f/{linked.link.token}",
    }
    response = templates.TemplateResponse(request, "form.html", context, status_code=status_code)
    keep_session(request, response, session_id)
    return response


@router.get("", response_class=HTMLResponse)
def form_page(request: Request, linked: Linked) -> Response:
    """The form, one row per location of the company."""
    return render_form(request, linked, rows=[Row(location=name) for name in linked.locations])


@router.post("", response_class=HTMLResponse)
async def send_form(request: Request, linked: Linked) -> Response:
    """Add a row (no JavaScript), or check everything and start the request."""
    data = await request.form()
    submitted = data.get(CSRF_FIELD)
    check_csrf(request, linked.link.token, submitted if isinstance(submitted, str) else None)
    rows = read_rows(data)
    email = _text(data.get("contact_email")).lower()
    if data.get("action") == "add_row":
        return render_form(request, linked, rows=[*rows, Row()], email=email)

    email_error = None
    if not EMAIL.fullmatch(email) or len(email) > 254:
        email_error = "Enter your work email address, like name@company.com."
    form_error = None if any(row.spot_id for row in rows) else "Enter at least one SpotID."
    checker = request.app.state.spot_checker
    rows_ok = await check_rows(
        rows,
        company=linked.name,
        locations=linked.locations,
        operators=linked.operators,
        checker=checker,
    )
    if email_error or form_error or not rows_ok:
        return render_form(
            request,
            linked,
            rows=rows,
            email=email,
            email_error=email_error,
            form_error=form_error,
            status_code=422,
        )

    spots = [(row.location, row.spot_id) for row in rows if row.spot_id]
    raw = form_json(company=linked.name, contact_email=email, spots=spots)
    try:
        request_id, _, _ = await submit_form(raw, onboardings=request.app.state.onboardings)
    except (UnreadableInput, NotASpotIDRequest) as exc:
        return render_form(
            request, linked, rows=rows, email=email, form_error=str(exc), status_code=422
        )
    target = f"/f/{linked.link.token}/requests/{request_id}?sent=1"
    return RedirectResponse(target, status_code=303)


@router.get("/check")
async def check_row(request: Request, linked: Linked, row: int = 0) -> JSONResponse:
    """Check one row as it is typed, against the other rows and HotSpot (for form.js); 429
    once the link has used up its HotSpot lookups for now (submitting still checks all)."""
    rows = read_rows(request.query_params)
    if not 0 <= row < len(rows):
        return JSONResponse({"detail": "no such row"}, status_code=400)
    local_problems(rows, company=linked.name, locations=linked.locations)
    target = rows[row]
    try:
        await hotspot_problems(
            [target],
            checker=request.app.state.spot_checker,
            operators=linked.operators,
            link=linked.link.token,
        )
    except TooManyChecks as exc:
        return JSONResponse(
            {"detail": str(exc)},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    return JSONResponse(
        {"row": row, "ok": target.error is None, "error": target.error, "note": target.note}
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def status_page(
    request: Request, linked: Linked, request_id: RequestId, sent: bool = False
) -> Response:
    """Where the request stands, per SpotID; refreshes itself until it is final."""
    with session_scope() as session:
        company = crud.find_company(session, company_id=linked.link.company_id)
        if company is None or not crud.company_request(
            session, request_id=request_id, company=company
        ):
            raise HTTPException(404, "No such request for your company.")
        outcome = crud.request_outcome(session, request_id=request_id)
    context = {
        "company": linked.name,
        "view": status_view(outcome),
        "steps": STEPS,
        "sent": sent,
        "base": f"/f/{linked.link.token}",
    }
    return templates.TemplateResponse(request, "status.html", context)
