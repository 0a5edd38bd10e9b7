"""Replies to the customer who emailed: received, refused (and why), live."""

from __future__ import annotations

import asyncio

from prefect import get_run_logger, task

from inbox import smtp
from inbox.replies import ReplyKind, compose_reply, may_reply_to
from settings import settings
from store import crud
from store.db import session_scope
from store.models import RequestSource


@task(name="reply-to-requester", retries=2, retry_delay_seconds=[10, 60])
async def reply_to_requester(request_id: int, kind: ReplyKind) -> bool:
    """Send the request's reply of this kind, once; False when there is none to send."""
    if not settings.smtp_host:
        return False
    own = (settings.reply_from, settings.imap_user)
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        if request.source != RequestSource.email or not may_reply_to(
            request.sender, own_addresses=own
        ):
            return False
        claim = crud.claim_reply(
            session, request_id=request_id, kind=kind.value, recipient=request.sender or ""
        )
        if claim is None:
            return False  # sent already
        outcome = crud.request_outcome(session, request_id=request_id)
        parsed = request.parsed or {}
    message = compose_reply(
        kind,
        outcome,
        sender=settings.reply_from,
        to=request.sender or "",
        subject=request.subject,
        in_reply_to=parsed.get("message_id"),
    )
    await asyncio.to_thread(smtp.send, message, settings)
    with session_scope() as session:
        crud.mark_reply_sent(session, reply_id=claim.id or 0)
    get_run_logger().info("Replied to %s (%s) for request %s", request.sender, kind, request_id)
    return True
