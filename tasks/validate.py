"""Step 1: validate the SpotIDs before anything is applied."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Sequence

from prefect import get_run_logger, task
from pydantic import BaseModel

from hotspot import HotSpotClient, SpotNotFound
from store import crud
from store.db import session_scope
from store.models import Location, RequestSpot, RequestState, SpotMapping, SpotVerdict
from tasks.policy import HOTSPOT_TASK_RETRIES, hotspot_client

SPOT_ID_FORMAT = re.compile(r"\d{3,8}")
WAITING_FOR_A_PERSON = (RequestState.held, RequestState.needs_review)
NO_SUCH_LOCATION = "the company has no location named"


class ValidationReport(BaseModel):
    """The requesting company, and one line per refused SpotID (empty when all are valid)."""

    company: str | None
    problems: list[str]


@task(name="validate-spot-ids", **HOTSPOT_TASK_RETRIES)
async def validate_spot_ids(request_id: int) -> ValidationReport:
    """Refuse the whole request, with a reason per SpotID, if any SpotID cannot be applied."""
    logger = get_run_logger()
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        if (
            request.state in WAITING_FOR_A_PERSON
            or request.company_id is None
            or crud.is_rejected_by_ops(request)
        ):
            # Held or unsure requests run only once a person has decided: never a guess.
            return ValidationReport(company=None, problems=[request.reason or "not approved"])
        company = crud.get_company(session, company_id=request.company_id)
        lines = crud.request_spots(session, request_id=request_id)
        problems = _problems_in_store(
            lines,
            locations={
                crud.normalise_location(loc.name): loc
                for loc in crud.company_locations(session, company=company)
            },
            mapped=crud.mappings_by_spot(session, spot_ids=[line.spot_id for line in lines]),
            mapped_locations=crud.mappings_by_location(session, company_id=company.id),
            company_id=company.id,
        )
        to_check = sorted({line.spot_id for line in lines if line.position not in problems})

    async with hotspot_client() as hotspot:
        problems_in_hotspot = await _problems_in_hotspot(hotspot, to_check)

    refused: list[str] = []
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        lines = crud.request_spots(session, request_id=request_id)
        for line in lines:
            reason = problems.get(line.position) or problems_in_hotspot.get(line.spot_id)
            verdict = SpotVerdict.accepted
            if reason:
                unknown = reason.startswith(NO_SUCH_LOCATION)
                verdict = SpotVerdict.unknown_location if unknown else SpotVerdict.rejected
            crud.set_verdict(session, line=line, verdict=verdict, reason=reason)
            if reason:
                refused.append(f"SpotID {line.spot_id} ({line.location}): {reason}")
        if refused:
            summary = f"{len(refused)} of {len(lines)} SpotIDs refused, nothing applied"
            crud.set_request_state(
                session, request=request, state=RequestState.rejected, reason=summary
            )
            logger.warning("Request %s refused (%s): %s", request_id, summary, "; ".join(refused))
        else:
            crud.set_request_state(
                session, request=request, state=RequestState.validated, reason=None
            )
            logger.info("Request %s: %d SpotIDs valid for %s", request_id, len(lines), company.name)
    return ValidationReport(company=company.name, problems=refused)


def _problems_in_store(
    lines: Sequence[RequestSpot],
    *,
    locations: dict[str, Location],
    mapped: dict[str, SpotMapping],
    mapped_locations: dict[int, SpotMapping],
    company_id: int,
) -> dict[int, str]:
    """Problems visible from the request and the store alone, by line position."""
    spot_counts = Counter(line.spot_id for line in lines)
    location_counts = Counter(crud.normalise_location(line.location) for line in lines)
    problems: dict[int, str] = {}
    for line in lines:
        key = crud.normalise_location(line.location)
        location = locations.get(key)
        mapping = mapped.get(line.spot_id)
        location_mapping = mapped_locations.get(location.id) if location else None
        if not SPOT_ID_FORMAT.fullmatch(line.spot_id):
            why = f"'{line.spot_id}' is not a SpotID (3 to 8 digits); ask the customer for it"
        elif spot_counts[line.spot_id] > 1:
            why = "the request gives this SpotID more than once; one SpotID per location"
        elif location_counts[key] > 1:
            why = f"the request gives '{line.location}' more than one SpotID; one per location"
        elif location is None:
            known = ", ".join(sorted(loc.name for loc in locations.values())) or "none"
            why = (
                f"{NO_SUCH_LOCATION} '{line.location}' (it has: {known}); "
                "correct the request or add the location"
            )
        elif mapping is not None and mapping.company_id != company_id:
            why = "already mapped to another company; a SpotID is never remapped"
        elif mapping is not None and mapping.location_id != location.id:
            why = "already mapped to another of the company's locations"
        elif location_mapping is not None and location_mapping.spot_id != line.spot_id:
            why = (
                f"'{line.location}' is already mapped to SpotID {location_mapping.spot_id}; "
                "one SpotID per location"
            )
        else:
            continue
        problems[line.position] = why
    return problems


async def _problems_in_hotspot(hotspot: HotSpotClient, spot_ids: list[str]) -> dict[str, str]:
    """Each SpotID must exist in HotSpot and be active."""

    async def check(spot_id: str) -> str | None:
        try:
            spot = await hotspot.get_spot(spot_id)
        except SpotNotFound:
            return "unknown to HotSpot; check the SpotID with the customer"
        if not spot.active:
            return f"'{spot.name}' is inactive in HotSpot; the operator must activate it first"
        return None

    verdicts = await asyncio.gather(*(check(spot_id) for spot_id in spot_ids))
    return {spot_id: why for spot_id, why in zip(spot_ids, verdicts, strict=True) if why}
