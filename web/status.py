"""A request's progress as the customer sees it: plain words, nothing meant for ops only.

Raw reasons can hold ops' commands or other people's addresses, so the customer's page shows
its own wording per state; only a refused SpotID's reason (about that SpotID) is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.models import MappingState, Phase, RequestState, SpotVerdict
from store.schemas import RequestOutcome

STEPS = ("Received", "Validated", "TEST123 issued", "Seen in HotSpot", "Live")
STEP_BY_STATUS = {
    "pending": 0,
    "accepted": 1,
    "mapped": 1,
    "test_issued": 2,
    "verified": 3,
    "live": 4,
    "already_live": 4,
}
# How soon the page looks again: soon while a run works, slowly while a person must act.
REFRESH_SECONDS = {Phase.at_work: 3, Phase.waiting: 30, Phase.failed: 30}

HEADLINES: dict[RequestState, tuple[str, str]] = {
    RequestState.received: ("Received", "We are checking your SpotIDs with HotSpot."),
    RequestState.held: (
        "Held for Offstreet's review",
        "The email address you gave is not one we have on file for your company, so a person "
        "at Offstreet checks the request before anything is applied. Nothing else is needed "
        "from you; this page updates when it goes ahead.",
    ),
    RequestState.needs_review: (
        "Held for Offstreet's review",
        "A person at Offstreet is looking at your request before anything is applied.",
    ),
    RequestState.validated: ("In progress", "Your SpotIDs are valid; we are setting them up."),
    RequestState.mapped: ("In progress", "Your locations are mapped to their SpotIDs."),
    RequestState.test_issued: (
        "In progress",
        "A TEST123 permit was issued at each SpotID; we are waiting to see it in HotSpot.",
    ),
    RequestState.verified: ("In progress", "HotSpot shows the test permits; going live."),
    RequestState.live: ("Live", "HotSpot enforcement now covers these locations."),
    RequestState.rejected: (
        "Not applied",
        "Some SpotIDs cannot be used, so nothing was changed. Fix them (see below) and send "
        "the form again.",
    ),
    RequestState.waiting_on_ops: (
        "Waiting on Offstreet",
        "Offstreet must confirm something before these locations go live (see below: often "
        "the parking operator needs your company's HotSpot token). Offstreet will be in "
        "touch; the others stay as shown.",
    ),
    RequestState.status_question: (
        "Answered",
        "You asked where your HotSpot integration stands; we answered by email.",
    ),
    RequestState.finding_spot_ids: (
        "SpotIDs proposed",
        "We looked your locations up in HotSpot and emailed you the SpotIDs to confirm.",
    ),
    RequestState.failed: (
        "Delayed",
        "Something went wrong on our side. Offstreet has been told and will continue it.",
    ),
}


@dataclass(frozen=True)
class SpotView:
    location: str
    spot_id: str
    label: str
    step: int | None
    problem: str | None


@dataclass(frozen=True)
class StatusView:
    request_id: int
    state: str
    title: str
    detail: str
    final: bool
    refresh_seconds: int | None
    spots: list[SpotView]


def spot_view(
    location: str, spot_id: str, status: SpotVerdict | MappingState, customer_reason: str | None
) -> SpotView:
    """One SpotID's line; only the reason written for the customer is ever shown."""
    step = STEP_BY_STATUS.get(status)
    if step is not None:
        label = "Already live" if status == "already_live" else STEPS[step]
        return SpotView(location, spot_id, label, step, None)
    if status == "rejected":
        why = customer_reason or "it cannot be used"
        return SpotView(location, spot_id, "Refused", None, why[:1].upper() + why[1:] + ".")
    if status == MappingState.degraded:  # was live; the health check found it broken
        return SpotView(
            location,
            spot_id,
            "Interrupted",
            None,
            "HotSpot enforcement may not see Offstreet permits here right now; Offstreet is "
            "restoring it and will email you if anything is needed from you.",
        )
    if status.phase == Phase.waiting and customer_reason:  # a location or an operator
        why = customer_reason[:1].upper() + customer_reason[1:] + "."
        return SpotView(location, spot_id, "Waiting on Offstreet", None, why)
    if status == "waiting_on_ops":
        return SpotView(
            location,
            spot_id,
            "Waiting on Offstreet",
            None,
            "The operator needs your company's HotSpot token for this spot.",
        )
    return SpotView(location, spot_id, "Delayed", None, "Offstreet is looking into it.")


def status_view(outcome: RequestOutcome) -> StatusView:
    """The customer's view of the outcome, and how soon the page should look again."""
    state = outcome.state
    title, detail = HEADLINES[state]
    return StatusView(
        request_id=outcome.request_id,
        state=state.value,
        title=title,
        detail=detail,
        final=state.phase.is_final,
        refresh_seconds=REFRESH_SECONDS.get(state.phase),
        spots=[
            spot_view(s.location, s.spot_id, s.status, s.customer_reason) for s in outcome.spots
        ],
    )
