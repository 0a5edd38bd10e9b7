"""Requests: as received, their lines and verdicts, their state, and the one run's lease."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store.crud._base import insert_or_nothing, rows_changed
from store.models import (
    Company,
    Confirmer,
    OnboardingRequest,
    RefusalCode,
    Refuser,
    RequestSource,
    RequestSpot,
    RequestState,
    SpotVerdict,
    stored_id,
    utcnow,
)


def record_request(
    session: Session,
    *,
    key: str,
    source: RequestSource,
    raw: bytes,
    parsed: dict[str, Any] | None,
    sender: str | None,
    subject: str | None,
    spots: Iterable[tuple[str, str]],
    company_id: int | None = None,
    state: RequestState = RequestState.received,
    reason: str | None = None,
    refused_by: Refuser | None = None,
    reply_to: str | None = None,
    trust_notes: list[str] | None = None,
) -> tuple[OnboardingRequest, bool]:
    """Store a request with its raw input; the same key again returns the stored one.

    The database decides (insert or nothing on the unique key): two processes storing the
    same email at once get the one request, never an IntegrityError.
    """
    now = utcnow()
    created = insert_or_nothing(
        session,
        OnboardingRequest,
        key=key,
        source=source,
        raw=raw,
        parsed=parsed,
        sender=sender,
        subject=subject,
        company_id=company_id,
        state=state,
        reason=reason,
        refused_by=refused_by,
        reply_to=reply_to,
        trust_notes=trust_notes or [],
        questions_answered=0,
        created_at=now,
        updated_at=now,
    )
    request = session.exec(select(OnboardingRequest).where(OnboardingRequest.key == key)).one()
    if not created:
        return request, False
    for position, (location, spot_id) in enumerate(spots):
        session.add(
            RequestSpot(
                request_id=stored_id(request),
                position=position,
                location=location,
                spot_id=spot_id,
            )
        )
    session.flush()
    return request, True


def get_request(session: Session, *, request_id: int) -> OnboardingRequest:
    request = session.get(OnboardingRequest, request_id)
    if request is None:
        raise LookupError(f"no onboarding request {request_id}")
    return request


def company_requests(
    session: Session, *, company_id: int, state: RequestState
) -> Sequence[OnboardingRequest]:
    return session.exec(
        select(OnboardingRequest)
        .where(OnboardingRequest.company_id == company_id, OnboardingRequest.state == state)
        .order_by(col(OnboardingRequest.id))
    ).all()


def list_requests(session: Session) -> Sequence[OnboardingRequest]:
    return session.exec(select(OnboardingRequest).order_by(col(OnboardingRequest.id))).all()


def set_request_state(
    session: Session,
    *,
    request: OnboardingRequest,
    state: RequestState,
    reason: str | None,
    refused_by: Refuser | None = None,
) -> None:
    """Move the request; a refusal says who refused it (`refused_by`, with `rejected` only)."""
    if (state == RequestState.rejected) != (refused_by is not None):
        raise ValueError("a request is refused (state rejected) by someone, and only then")
    request.state = state
    request.reason = reason
    request.refused_by = refused_by
    request.updated_at = utcnow()
    session.add(request)


def take_lease(
    session: Session,
    *,
    request_id: int,
    owner: str,
    seconds: float,
    from_dead: str | None = None,
) -> OnboardingRequest | None:
    """Take or renew the request's lease for `owner` (compare and set: free, lapsed, already
    `owner`'s, or still `from_dead`'s, a holder known dead). None when taken; else the request
    as it stands, naming its holder."""
    now = utcnow()
    takeable = [
        col(OnboardingRequest.lease_owner).is_(None),
        col(OnboardingRequest.lease_owner) == owner,
        col(OnboardingRequest.lease_expires_at) < now,
    ]
    if from_dead is not None:
        takeable.append(col(OnboardingRequest.lease_owner) == from_dead)
    taken = session.execute(
        sa.update(OnboardingRequest)
        .where(col(OnboardingRequest.id) == request_id, sa.or_(*takeable))
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=seconds),
            run_last_seen_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if rows_changed(taken):
        return None
    return session.exec(select(OnboardingRequest).where(OnboardingRequest.id == request_id)).one()


def interrupted_requests(session: Session) -> Sequence[OnboardingRequest]:
    """Requests whose run held the lease and stopped renewing it: it died at work."""
    return session.exec(
        select(OnboardingRequest)
        .where(col(OnboardingRequest.lease_expires_at) < utcnow())
        .order_by(col(OnboardingRequest.id))
    ).all()


def release_lease(session: Session, *, request_id: int, owner: str) -> None:
    """Give the lease back (only if `owner` still holds it)."""
    session.execute(
        sa.update(OnboardingRequest)
        .where(col(OnboardingRequest.id) == request_id, col(OnboardingRequest.lease_owner) == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


def approve_request(session: Session, *, request: OnboardingRequest, company: Company) -> None:
    """Ops let a held request run for the company they name."""
    request.company_id = company.id
    set_request_state(session, request=request, state=RequestState.received, reason=None)


def reject_by_ops(session: Session, *, request: OnboardingRequest, why: str) -> None:
    """Refuse the request for good: it is never validated or run again."""
    set_request_state(
        session,
        request=request,
        state=RequestState.rejected,
        reason=f"rejected by ops: {why}",
        refused_by=Refuser.ops,
    )


def set_line_location(session: Session, *, line: RequestSpot, location: str) -> None:
    """Ops said which of the company's locations a request line means."""
    line.location = location
    line.verdict = SpotVerdict.pending
    line.reason_code = None
    line.reason = None
    session.add(line)


def set_flow_run(session: Session, *, request: OnboardingRequest, flow_run_id: str) -> None:
    request.flow_run_id = flow_run_id
    session.add(request)


def request_spots(session: Session, *, request_id: int) -> Sequence[RequestSpot]:
    return session.exec(
        select(RequestSpot)
        .where(RequestSpot.request_id == request_id)
        .order_by(col(RequestSpot.position))
    ).all()


def set_verdict(
    session: Session,
    *,
    line: RequestSpot,
    verdict: SpotVerdict,
    code: RefusalCode | None = None,
    reason: str | None = None,
    customer_reason: str | None = None,
    hotspot_operator: str | None = None,
) -> None:
    line.verdict = verdict
    line.reason_code = code
    line.reason = reason
    line.customer_reason = customer_reason
    line.hotspot_operator = hotspot_operator
    session.add(line)


def add_proposals(
    session: Session, *, request_id: int, proposals: Sequence[tuple[str, str, str]]
) -> bool:
    """Record (location, proposed SpotID or "", how it was found) as the request's lines,
    once: False if it has lines already."""
    if request_spots(session, request_id=request_id):
        return False
    for position, (location, spot_id, how) in enumerate(proposals):
        session.add(
            RequestSpot(
                request_id=request_id,
                position=position,
                location=location,
                spot_id=spot_id,
                verdict=SpotVerdict.proposed,
                reason=how,
            )
        )
    session.flush()
    return True


def claim_confirmation(session: Session, *, request_id: int, by: Confirmer) -> bool:
    """Mark the request's proposed SpotIDs confirmed by `by`, unless someone confirmed them
    first (compare-and-set: the database decides between the customer and ops)."""
    claimed = session.execute(
        sa.update(OnboardingRequest)
        .where(
            col(OnboardingRequest.id) == request_id,
            col(OnboardingRequest.state) == RequestState.finding_spot_ids,
            col(OnboardingRequest.confirmed_by).is_(None),
        )
        .values(confirmed_by=by, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return rows_changed(claimed) == 1


def set_confirmed_as(session: Session, *, request_id: int, confirmed_as: int, reason: str) -> None:
    """The request the confirmed SpotIDs became, and the reason saying so."""
    session.execute(
        sa.update(OnboardingRequest)
        .where(col(OnboardingRequest.id) == request_id)
        .values(confirmed_as=confirmed_as, reason=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
