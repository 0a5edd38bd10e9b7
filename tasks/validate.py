"""Step 1: validate the SpotIDs before anything is applied.

Each line gets a verdict: accepted; refused (the whole request is then refused and nothing is
applied); or waiting on ops (a location the company does not have, a HotSpot operator it has
not on file), in which case the request waits for a person and nothing is applied either.
Whether a company may map a SpotID is decided by `trust.who_owns`, on HotSpot's word.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Sequence

from prefect import get_run_logger, task
from pydantic import BaseModel

from hotspot import HotSpotClient, Spot, SpotNotFound
from store import crud
from store.db import session_scope
from store.models import (
    Company,
    Location,
    Phase,
    RefusalCode,
    Refuser,
    RequestSpot,
    RequestState,
    SpotMapping,
    SpotVerdict,
)
from tasks.policy import HOTSPOT_TASK_RETRIES, hotspot_client
from trust import Ownership, who_owns

SPOT_ID_FORMAT = re.compile(r"\d{3,8}")


class LineVerdict(BaseModel):
    """Validation's verdict on one line: for ops, and in the customer's words."""

    verdict: SpotVerdict
    code: RefusalCode | None = None
    reason: str | None = None
    customer_reason: str | None = None
    operator: str | None = None  # as HotSpot names it, when asked


def refused(code: RefusalCode, reason: str, customer_reason: str) -> LineVerdict:
    return LineVerdict(
        verdict=SpotVerdict.rejected, code=code, reason=reason, customer_reason=customer_reason
    )


class ValidationReport(BaseModel):
    """The requesting company, and one line per SpotID not accepted (empty when all are)."""

    company: str | None
    problems: list[str]


@task(name="validate-spot-ids", **HOTSPOT_TASK_RETRIES)
async def validate_spot_ids(request_id: int) -> ValidationReport:
    """Refuse the whole request, or hold it for ops, if any SpotID cannot be applied as is."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        if (
            request.state.awaits_approval
            or request.company_id is None
            or request.refused_by == Refuser.ops
        ):
            # Held or unsure requests run only once a person has decided: never a guess.
            return ValidationReport(company=None, problems=[request.reason or "not approved"])
        company = crud.get_company(session, company_id=request.company_id)
        lines = crud.request_spots(session, request_id=request_id)
        mapped = crud.mappings_by_spot(session, spot_ids=[line.spot_id for line in lines])
        verdicts = _verdicts_from_store(
            lines,
            request_id=request_id,
            locations={
                crud.location_key(loc.name): loc
                for loc in crud.company_locations(session, company=company)
            },
            mapped=mapped,
            mapped_locations=crud.mappings_by_location(session, company_id=company.id or 0),
            company_id=company.id or 0,
        )
        owners = crud.company_names(session, company_ids={m.company_id for m in mapped.values()})
        to_check = sorted({line.spot_id for line in lines if line.position not in verdicts})

    async with hotspot_client() as hotspot:
        spots = await _spots_in_hotspot(hotspot, to_check)

    for line in lines:
        if line.position not in verdicts:
            mapping = mapped.get(line.spot_id)
            verdicts[line.position] = _verdict_from_hotspot(
                company,
                line.spot_id,
                spots[line.spot_id],
                mapped_to=owners.get(mapping.company_id) if mapping else None,
            )
    return _record(request_id, company, verdicts)


def _record(
    request_id: int, company: Company, verdicts: dict[int, LineVerdict]
) -> ValidationReport:
    """Write each line's verdict and the request's state: refused, waiting on ops, or valid."""
    logger = get_run_logger()
    problems: list[str] = []
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        lines = crud.request_spots(session, request_id=request_id)
        for line in lines:
            verdict = verdicts[line.position]
            crud.set_verdict(
                session,
                line=line,
                verdict=verdict.verdict,
                code=verdict.code,
                reason=verdict.reason,
                customer_reason=verdict.customer_reason,
                hotspot_operator=verdict.operator,
            )
            if verdict.reason:
                problems.append(f"SpotID {line.spot_id} ({line.location}): {verdict.reason}")
        kinds = Counter(verdict.verdict for verdict in verdicts.values())
        if kinds[SpotVerdict.rejected]:
            summary = (
                f"{kinds[SpotVerdict.rejected]} of {len(lines)} SpotIDs refused, nothing applied"
            )
            crud.set_request_state(
                session,
                request=request,
                state=RequestState.rejected,
                reason=summary,
                refused_by=Refuser.validation,
            )
            logger.warning("Request %s refused (%s): %s", request_id, summary, "; ".join(problems))
        elif any(verdict.phase == Phase.waiting for verdict in kinds):
            summary = _what_ops_decide(company, lines)
            crud.set_request_state(
                session, request=request, state=RequestState.waiting_on_ops, reason=summary
            )
            logger.warning("Request %s waits on ops: %s", request_id, summary)
        else:
            crud.set_request_state(
                session, request=request, state=RequestState.validated, reason=None
            )
            logger.info("Request %s: %d SpotIDs valid for %s", request_id, len(lines), company.name)
    return ValidationReport(company=company.name, problems=problems)


def _what_ops_decide(company: Company, lines: Sequence[RequestSpot]) -> str:
    """One sentence per decision ops must make, grouping the SpotIDs it concerns."""
    by_operator: dict[str, list[str]] = {}
    unknown = []
    for line in lines:
        if line.verdict == SpotVerdict.operator_unconfirmed:
            by_operator.setdefault(line.hotspot_operator or "?", []).append(line.spot_id)
        elif line.verdict == SpotVerdict.unknown_location:
            unknown.append(f"'{line.location}'")
    on_file = ", ".join(company.hotspot_operators) or "none on file yet"
    decisions = [
        f"SpotID {', '.join(spot_ids)} belong(s) to HotSpot operator {operator!r}, not one of "
        f"{company.name}'s ({on_file}): confirm it with `hotspot-onboard operator add "
        f'"{company.name}" "{operator}"` and retry, or reject the request'
        for operator, spot_ids in by_operator.items()
    ]
    if unknown:
        decisions.append(
            f"{company.name} has no location named {', '.join(unknown)}: pick the location "
            "meant in the Prefect UI, or reject the request"
        )
    return "; ".join(decisions)


def _verdicts_from_store(
    lines: Sequence[RequestSpot],
    *,
    request_id: int,
    locations: dict[str, Location],
    mapped: dict[str, SpotMapping],
    mapped_locations: dict[int, SpotMapping],
    company_id: int,
) -> dict[int, LineVerdict]:
    """Verdicts visible from the request and the store alone, by line position."""
    spot_counts = Counter(line.spot_id for line in lines)
    location_counts = Counter(crud.location_key(line.location) for line in lines)
    verdicts: dict[int, LineVerdict] = {}
    for line in lines:
        key = crud.location_key(line.location)
        location = locations.get(key)
        mapping = mapped.get(line.spot_id)
        location_mapping = mapped_locations.get(location.id or 0) if location else None
        if not SPOT_ID_FORMAT.fullmatch(line.spot_id):
            verdict = refused(
                RefusalCode.not_a_spot_id,
                f"'{line.spot_id}' is not a SpotID (3 to 8 digits); ask the customer for it",
                f"'{line.spot_id}' is not a SpotID (a SpotID has 3 to 8 digits)",
            )
        elif spot_counts[line.spot_id] > 1:
            verdict = refused(
                RefusalCode.spot_id_repeated,
                "the request gives this SpotID more than once; one SpotID per location",
                "this SpotID is given more than once; one SpotID per location",
            )
        elif location_counts[key] > 1:
            verdict = refused(
                RefusalCode.location_repeated,
                f"the request gives '{line.location}' more than one SpotID; one per location",
                f"'{line.location}' is given more than one SpotID; one per location",
            )
        elif location is None:
            known = ", ".join(sorted(loc.name for loc in locations.values())) or "none"
            verdict = LineVerdict(
                verdict=SpotVerdict.unknown_location,
                code=RefusalCode.unknown_location,
                reason=(
                    f"the company has no location named '{line.location}' (it has: {known}); "
                    "pick the location it means, or reject the request"
                ),
                customer_reason=f"we have no location named '{line.location}' for your account",
            )
        elif mapping is None or mapping.company_id != company_id:
            # Free, or another company's: that is for `who_owns`, on HotSpot's word.
            if location_mapping is None:
                continue
            verdict = refused(
                RefusalCode.location_has_another_spot,
                f"'{line.location}' is already mapped to SpotID {location_mapping.spot_id}; "
                "one SpotID per location",
                f"'{line.location}' is already set up with SpotID {location_mapping.spot_id}",
            )
        elif mapping.location_id != location.id:
            verdict = refused(
                RefusalCode.spot_on_another_location,
                "already mapped to another of the company's locations",
                "this SpotID is already set up for another of your locations",
            )
        elif mapping.request_id != request_id and not mapping.is_live:
            verdict = refused(
                RefusalCode.spot_in_another_request,
                f"request {mapping.request_id} is setting this SpotID up already "
                f"({mapping.state.value}); continue that one (`hotspot-onboard retry "
                f"{mapping.request_id}`)",
                f"this SpotID is being set up from your request #{mapping.request_id}",
            )
        else:
            continue
        verdicts[line.position] = verdict
    return verdicts


async def _spots_in_hotspot(hotspot: HotSpotClient, spot_ids: list[str]) -> dict[str, Spot | None]:
    """What HotSpot knows of each SpotID (None: no such spot)."""

    async def get(spot_id: str) -> Spot | None:
        try:
            return await hotspot.get_spot(spot_id)
        except SpotNotFound:
            return None

    found = await asyncio.gather(*(get(spot_id) for spot_id in spot_ids))
    return dict(zip(spot_ids, found, strict=True))


def _verdict_from_hotspot(
    company: Company, spot_id: str, spot: Spot | None, *, mapped_to: str | None
) -> LineVerdict:
    """The spot must exist and be active, and be the company's to map (`who_owns`)."""
    if spot is None:
        return refused(
            RefusalCode.unknown_to_hotspot,
            "unknown to HotSpot; check the SpotID with the customer",
            "HotSpot does not know this SpotID; please check it",
        )
    owner = who_owns(company=company, spot_id=spot_id, operator=spot.operator, mapped_to=mapped_to)
    if owner.ownership == Ownership.taken:
        return refused(
            RefusalCode.spot_of_another_company, owner.reason or "", owner.customer_reason or ""
        )
    if not spot.active:
        return refused(
            RefusalCode.inactive_in_hotspot,
            f"'{spot.name}' is inactive in HotSpot; the operator must activate it first",
            "HotSpot shows this spot as inactive; your parking operator must activate it first",
        )
    if owner.ownership == Ownership.operator_unconfirmed:
        return LineVerdict(
            verdict=SpotVerdict.operator_unconfirmed,
            code=RefusalCode.operator_unconfirmed,
            reason=owner.reason,
            customer_reason=owner.customer_reason,
            operator=spot.operator,
        )
    return LineVerdict(verdict=SpotVerdict.accepted, operator=spot.operator)
