"""The JSON API for Offstreet's own tools: submit a request, follow it. Staff keys only.

The body is the pipeline's form JSON; a request goes through the same intake as the form
and email (so an address that is not the company's contact is held for review) and starts
the same onboarding flow. Sending the same body again returns the same request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from parsers import NotASpotIDRequest, UnreadableInput
from parsers.form import form_json
from store import crud
from store.db import session_scope
from store.schemas import RequestOutcome
from web.security import StaffOnly, StaffRoute
from web.submit import submit_form

router = APIRouter(
    prefix="/api", tags=["requests"], dependencies=[StaffOnly], route_class=StaffRoute
)

# FastAPI's `responses`: status code to what the OpenAPI document says of it.
Responses = dict[int | str, dict[str, Any]]
UNAUTHORIZED: Responses = {401: {"description": "No valid staff key in the X-API-Key header."}}
NOT_FOUND: Responses = {404: {"description": "No request with that id."}}
NOT_JSON: Responses = {400: {"description": "The body could not be read as JSON."}}
TOO_LARGE: Responses = {413: {"description": "The body is larger than WEB_MAX_BODY_BYTES."}}


class SpotIn(BaseModel):
    """One location of the company and the HotSpot SpotID for it."""

    location: str = Field(min_length=1, max_length=200, examples=["Lot A"])
    # A string is kept as written; an integer must be one (strict: "007" never becomes 7).
    spot_id: (
        Annotated[str, Field(min_length=1, max_length=32)]
        | Annotated[int, Field(strict=True, ge=0, le=99_999_999)]
    ) = Field(examples=["14283"])


class FormRequest(BaseModel):
    """The form JSON: a company, the contact asking, and one SpotID per location."""

    company: str = Field(min_length=1, max_length=200, examples=["Acme Parking"])
    contact_email: str = Field(min_length=3, max_length=254, examples=["jane@acme.example"])
    spots: list[SpotIn] = Field(min_length=1, max_length=400)


def _invalid(loc: tuple[str, ...], message: str, value: object) -> RequestValidationError:
    """A 422 in FastAPI's own shape, so every 422 of the API reads the same."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", *loc), "msg": message, "input": value}]
    )


@router.post(
    "/requests",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": RequestOutcome, "description": "Already received"}}
    | UNAUTHORIZED
    | NOT_JSON
    | TOO_LARGE,
)
async def create_request(body: FormRequest, request: Request, response: Response) -> RequestOutcome:
    """Store the request and start its onboarding (201); the same body again answers 200."""
    with session_scope() as session:
        company = crud.get_company_by_name(session, name=body.company)
        if company is None:
            raise _invalid(("company",), "no company by that name; seed it first", body.company)
        name = company.name
    raw = form_json(
        company=name,
        contact_email=body.contact_email,
        spots=[(spot.location, spot.spot_id) for spot in body.spots],
    )
    try:
        request_id, _, created = await submit_form(raw, onboardings=request.app.state.onboardings)
    except (UnreadableInput, NotASpotIDRequest) as exc:
        raise _invalid((), str(exc), None) from exc
    response.headers["Location"] = f"/api/requests/{request_id}"
    if not created:
        response.status_code = status.HTTP_200_OK
    with session_scope() as session:
        return crud.request_outcome(session, request_id=request_id)


@router.get("/requests/{request_id}", responses=UNAUTHORIZED | NOT_FOUND)
def read_request(request_id: Annotated[int, Path(ge=1, le=2**53)]) -> RequestOutcome:
    """Where the request stands, per SpotID, with the reasons ops see."""
    with session_scope() as session:
        try:
            return crud.request_outcome(session, request_id=request_id)
        except LookupError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
