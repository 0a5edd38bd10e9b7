"""Intake: keep the raw request and what was understood of it, before anything else."""

from __future__ import annotations

import hashlib

from prefect import get_run_logger, task

from parsers import SpotIDRequest
from store import crud
from store.db import session_scope
from store.models import RequestSource, RequestState


def request_key(request: SpotIDRequest, raw: bytes) -> str:
    """Message-ID for mail, a digest of the bytes otherwise: the same input is one request."""
    if request.message_id:
        return f"message-id:{request.message_id}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


@task(name="record-request")
def record_request(raw: bytes, request: SpotIDRequest) -> int:
    """Store the request (raw bytes kept) unless it is already stored; returns its id."""
    needs_review = request.warnings or not request.spots
    with session_scope() as session:
        stored, created = crud.record_request(
            session,
            key=request_key(request, raw),
            source=RequestSource(request.source),
            raw=raw,
            parsed=request.model_dump(mode="json"),
            sender=request.sender,
            subject=request.subject,
            spots=[(spot.location, spot.spot_id) for spot in request.spots],
            state=RequestState.needs_review if needs_review else RequestState.received,
            reason="; ".join(request.warnings) or None,
        )
    logger = get_run_logger()
    if created:
        logger.info(
            "Request %s stored: %d SpotIDs from %s", stored.id, len(request.spots), request.sender
        )
    else:
        logger.info("Request %s was already stored; continuing it", stored.id)
    return stored.id
