"""Replies to the customer who emailed: received, refused (and why), live."""

from __future__ import annotations

import asyncio

from prefect import get_run_logger, task

from inbox import smtp
from inbox.replies import ReplyKind, compose_reply, may_reply_to
from settings import settings
from store import crud
from store.db import session_scope


@task(name="reply-to-requester", retries=2, retry_delay_seconds=[10, 60])
async def reply_to_requester(request_id: int, kind: ReplyKind) -> bool:
    """Send the request's reply of this kind, once; False when there is none to send.

    Replies go only where intake decided they may (`reply_to`: a sender that passed
    authentication, or a registered contact of the form's company), never to our own
    addresses or to robots.
    """
    if not settings.smtp_host:
        return False
    own = (settings.reply_from, settings.imap_user)
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        recipient = request.reply_to
        if recipient is None or not may_reply_to(recipient, own_addresses=own):
            return False
        claim = crud.claim_reply(
            session, request_id=request_id, kind=kind.value, recipient=recipient
        )
        if claim is None:
            return False  # sent already
        outcome = crud.request_outcome(session, request_id=request_id)
        parsed = request.parsed or {}
    message = compose_reply(
        kind,
        outcome,
        sender=settings.reply_from,
        to=recipient,
        in_reply_to=parsed.get("message_id"),
    )
    await asyncio.to_thread(smtp.send, message, settings)
    with session_scope() as session:
        crud.mark_reply_sent(session, reply_id=claim.id or 0)
    get_run_logger().info("Replied to %s (%s) for request %s", recipient, kind, request_id)
    return True
