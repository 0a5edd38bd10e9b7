"""Finding SpotIDs: propose a SpotID for each location from HotSpot, and confirm them.

A contact who does not know its SpotIDs gets, by email, a single-use link listing a SpotID
proposed for each location (the company's operators' spots in HotSpot, matched by name:
`parsers.discovery.propose`; no guess when ambiguous or missing). Confirmed lines (by the
customer on that page, or by ops with `hotspot-onboard confirm`; the first wins) become a
normal request, which runs the six steps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from prefect import get_run_logger, task
from sqlmodel import Session

from inbox.replies import proposals_body
from parsers.discovery import Candidate, Proposal, normalise, propose
from parsers.form import form_json, parse_form
from settings import settings
from store import crud
from store.db import session_scope
from store.models import (
    Confirmer,
    LinkPurpose,
    OnboardingRequest,
    RequestState,
    SpotVerdict,
    stored_id,
    utcnow,
)
from tasks.intake import admit
from tasks.policy import HOTSPOT_TASK_RETRIES, hotspot_client
from tasks.replies import company_recipient, send_once
from trust.links import issue_token_link, token_link_token, token_link_url

NOT_OURS = "not one of your locations at Offstreet"


@task(name="propose-spot-ids", **HOTSPOT_TASK_RETRIES)
async def propose_spot_ids(request_id: int) -> bool:
    """Look the company's operators' spots up in HotSpot, record a proposal per location
    (once), and email the requester the link to confirm them; False when not applicable."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        if request.state != RequestState.finding_spot_ids or request.company_id is None:
            return False
        company = crud.get_company(session, company_id=request.company_id)
        done = bool(crud.request_spots(session, request_id=request_id))
        targets, unknown = _targets(session, request, company.id or 0)
        operators = list(company.hotspot_operators)
    if not done:
        candidates: list[Candidate] = []
        async with hotspot_client() as hotspot:
            for operator in operators:
                spots = await hotspot.list_spots(operator)
                candidates += [Candidate(s.spot_id, s.name) for s in spots if s.active]
        found = propose(targets, candidates)
        lines = [(p.location, p.spot_id or "", _how(p)) for p in found]
        lines += [(name, "", NOT_OURS) for name in unknown]
        with session_scope() as session:
            crud.add_proposals(session, request_id=request_id, proposals=lines)
        get_run_logger().info(
            "Request %s: %d of %d locations of %s matched a HotSpot spot",
            request_id,
            sum(1 for p in found if p.spot_id),
            len(lines),
            company.name,
        )
    return await _send_link(request_id)


@task(name="split-off-spot-ids-to-find")
def split_off_spot_ids_to_find(request_id: int) -> int | None:
    """Locations an admitted request names without a SpotID ("Lot D: ?") become a request of
    the same company and sender, whose SpotIDs Offstreet proposes, so that none is dropped;
    its id, or None when there are none (or the request waits for ops' approval)."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        parsed = request.parsed or {}
        missing = parsed.get("locations") or []
        admitted = request.company_id is not None and not (
            request.state.awaits_approval or request.state == RequestState.rejected
        )
        if parsed.get("kind", "spot_ids") != "spot_ids" or not missing or not admitted:
            return None
        rest, created = crud.record_request(
            session,
            key=f"{request.key}:spot-ids-to-find",
            source=request.source,
            raw=request.raw,
            parsed={**parsed, "kind": "find_spot_ids", "spots": []},
            sender=request.sender,
            subject=request.subject,
            spots=[],
            company_id=request.company_id,
            state=RequestState.finding_spot_ids,
            reason=f"named without a SpotID in request {request_id} (Offstreet proposes them)",
            reply_to=request.reply_to,
            trust_notes=request.trust_notes,
        )
    if created:
        get_run_logger().info(
            "Request %s names %d locations without a SpotID: request %s proposes theirs",
            request_id,
            len(missing),
            rest.id,
        )
    return stored_id(rest)


def _targets(
    session: Session, request: OnboardingRequest, company_id: int
) -> tuple[list[str], list[str]]:
    """The company's locations to find SpotIDs for (those the email lists, else every one
    not mapped yet), and listed names that are none of its locations."""
    company = crud.get_company(session, company_id=company_id)
    locations = crud.company_locations(session, company=company)
    by_name = {normalise(loc.name): loc.name for loc in locations}
    listed = (request.parsed or {}).get("locations") or []
    if listed:
        found = [by_name[normalise(name)] for name in listed if normalise(name) in by_name]
        unknown = [name for name in listed if normalise(name) not in by_name]
        return list(dict.fromkeys(found)), unknown
    mapped = crud.mappings_by_location(session, company_id=company_id)
    return [loc.name for loc in locations if (loc.id or 0) not in mapped], []


def _how(proposal: Proposal) -> str:
    if proposal.spot_id is None:
        return {
            "ambiguous": "several HotSpot spots could be it",
            "missing": "no HotSpot spot of your operators has that name",
        }[proposal.how]
    return f"{proposal.how} match: HotSpot calls it {proposal.spot_name!r}"


async def _send_link(request_id: int) -> bool:
    """Email the requester (only a proven contact) the single-use link to confirm, once."""
    if not settings.smtp_host:
        return False
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        company = crud.get_company(session, company_id=request.company_id or 0)
        recipient = company_recipient(request, company)
        if recipient is None:
            return False
        links = crud.request_token_links(
            session, request_id=request_id, purpose=LinkPurpose.proposal
        )
        lines = [(loc, spot, how) for _, loc, spot, how in proposals(session, request_id)]
        name, in_reply_to = company.name, (request.parsed or {}).get("message_id")
        existing = links[-1] if links else None
        if existing is not None:
            link_id = existing.id or 0
            token = token_link_token(
                link_id, int(existing.expires_at.timestamp()), LinkPurpose.proposal
            )
            url, expires = token_link_url(token), existing.expires_at
    if existing is None:
        link_id, url = issue_token_link(
            company_id=company.id or 0,
            request_id=request_id,
            recipient=recipient,
            purpose=LinkPurpose.proposal,
        )
        expires = utcnow() + timedelta(hours=settings.token_link_hours)
    body = proposals_body(company=name, lines=lines, url=url, expires=expires)
    return await send_once(request_id, f"proposal-{link_id}", recipient, body, in_reply_to)


# --- confirming: the same for the customer's page and for ops -----------------------------


def proposals(session: Session, request_id: int) -> list[tuple[int, str, str, str]]:
    """(position, location, proposed SpotID or "", how) of a request's proposals: the ones
    Offstreet found in HotSpot, or the lines a HotSpot representative sent."""
    request = crud.get_request(session, request_id=request_id)
    by_rep = f"as sent by HotSpot's {request.sender}"
    return [
        (line.position, line.location, line.spot_id, line.reason or by_rep)
        for line in crud.request_spots(session, request_id=request_id)
        if line.verdict in (SpotVerdict.proposed, SpotVerdict.pending)
    ]


def confirmed_request(request_id: int, positions: list[int] | None) -> bytes | None:
    """The form JSON of a new request with the confirmed proposals (every proposal with a
    SpotID when `positions` is None); None when none is confirmed. It is the company's
    request from the contact who asked, read and admitted like any form."""
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        company = crud.get_company(session, company_id=request.company_id or 0)
        chosen = [
            (location, spot_id)
            for position, location, spot_id, _ in proposals(session, request_id)
            if spot_id and (positions is None or position in positions)
        ]
        contact = request.reply_to or request.sender or ""
    if not chosen:
        return None
    return form_json(company=company.name, contact_email=contact, spots=chosen)


BY_WHOM = {Confirmer.customer: "the customer", Confirmer.ops: "ops"}


class AlreadyConfirmed(Exception):
    """The proposals were confirmed first, by the customer or by ops (or the link was used)."""

    def __init__(self, request: OnboardingRequest) -> None:
        by = BY_WHOM[request.confirmed_by] if request.confirmed_by else "someone"
        became = f": onboarded as request {request.confirmed_as}" if request.confirmed_as else ""
        super().__init__(f"request {request.id}: SpotIDs already confirmed by {by}{became}")
        self.confirmed_as = request.confirmed_as


class Confirmed(NamedTuple):
    """The request confirmed proposals became."""

    request_id: int
    state: RequestState
    created: bool
    # The proposals' own run, which may be suspended asking ops to confirm in the UI.
    asking_run_id: str | None


def confirm_proposals(
    request_id: int, positions: list[int] | None, *, by: Confirmer, link_id: int | None = None
) -> Confirmed | None:
    """Store the confirmed proposals as the company's new request; None when no line with a
    SpotID was chosen.

    The claim, the customer's single-use link and the new request are one transaction: the
    first confirmation wins and the other raises `AlreadyConfirmed`, nothing half-done.
    """
    raw = confirmed_request(request_id, positions)
    if raw is None:
        return None
    with session_scope() as session:
        claimed = crud.claim_confirmation(session, request_id=request_id, by=by)
        if not claimed or (
            link_id is not None and not crud.use_token_link(session, link_id=link_id)
        ):
            session.rollback()
            raise AlreadyConfirmed(crud.get_request(session, request_id=request_id))
        new, created = admit(session, raw, parse_form(raw))
        new_id = stored_id(new)
        crud.set_confirmed_as(
            session,
            request_id=request_id,
            confirmed_as=new_id,
            reason=f"SpotIDs confirmed by {BY_WHOM[by]}: onboarded as request {new_id}",
        )
        asking_run_id = crud.get_request(session, request_id=request_id).flow_run_id
        return Confirmed(new_id, new.state, created, asking_run_id)
