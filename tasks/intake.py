"""Intake: keep every request with its raw bytes, and decide who may ask, before anything runs."""

from __future__ import annotations

import hashlib

from prefect import get_run_logger, task
from sqlmodel import Session

from parsers import SpotIDRequest
from parsers.envelope import read_envelope
from settings import settings
from store import crud
from store.db import session_scope
from store.models import (
    OnboardingRequest,
    Refuser,
    RequestSource,
    RequestState,
    stored_id,
)
from trust import who_may_ask


def request_key(raw: bytes, message_id: str | None) -> str:
    """Message-ID for mail, a digest of the bytes otherwise: the same input is one request."""
    if message_id:
        return f"message-id:{message_id}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def deployed() -> bool:
    """Whether onboardings run on workers (a Prefect server and ONBOARDING_DEPLOYMENT)."""
    return bool(settings.onboarding_deployment)


def starts_a_run(state: RequestState) -> bool:
    """Whether intake starts a run for a request stored in this state: an admitted one always;
    when deployed, one that a person must decide (held, unsure, or SpotIDs proposed to
    confirm), so that its run asks ops in the UI."""
    asks_ops = state.awaits_approval or state == RequestState.finding_spot_ids
    return state == RequestState.received or (deployed() and asks_ops)


def admit(session: Session, raw: bytes, request: SpotIDRequest) -> tuple[OnboardingRequest, bool]:
    """Store the request with its raw bytes, admitted or held; (the stored one, whether new).

    Who may ask is decided once, here, by `trust.who_may_ask`, for every intake channel.
    """
    admission = who_may_ask(
        session,
        request,
        trusted_authserv_ids=settings.mail_trusted_authserv_ids,
        rep_domains=settings.hotspot_rep_domains,
    )
    return crud.record_request(
        session,
        key=request_key(raw, request.message_id),
        source=RequestSource(request.source),
        raw=raw,
        parsed=request.model_dump(mode="json"),
        sender=request.sender,
        subject=request.subject,
        spots=[(spot.location, spot.spot_id) for spot in request.spots],
        company_id=admission.company_id,
        state=admission.state,
        reason=admission.reason,
        reply_to=admission.reply_to,
        trust_notes=admission.notes,
    )


def keep_unreadable(
    session: Session, raw: bytes, *, reason: str, state: RequestState
) -> tuple[OnboardingRequest, bool]:
    """Keep an email that is not a readable request, with why, so it is reported, never lost."""
    envelope = read_envelope(raw)
    return crud.record_request(
        session,
        key=request_key(raw, envelope.message_id),
        source=RequestSource.email,
        raw=raw,
        parsed=None,
        sender=envelope.sender,
        subject=envelope.subject,
        spots=[],
        state=state,
        reason=reason,
        refused_by=Refuser.intake if state == RequestState.rejected else None,
    )


@task(name="record-request")
def record_request(raw: bytes, request: SpotIDRequest) -> int:
    """Store the request (raw bytes kept) unless it is already stored; returns its id."""
    with session_scope() as session:
        stored, created = admit(session, raw, request)
    logger = get_run_logger()
    if not created:
        logger.info("Request %s was already stored; continuing it", stored.id)
    elif stored.state == RequestState.received:
        logger.info(
            "Request %s stored: %d SpotIDs from %s", stored.id, len(request.spots), request.sender
        )
    else:
        logger.warning("Request %s stored, %s: %s", stored.id, stored.state.value, stored.reason)
    return stored_id(stored)
