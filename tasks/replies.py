"""Replies to the customer who emailed: received, refused (and why), live; and the answer to
a status question."""

from __future__ import annotations

import asyncio

from prefect import get_run_logger, task

from inbox import smtp
from inbox.replies import (
    ReplyKind,
    compose_message,
    compose_reply,
    may_reply_to,
    status_answer_body,
)
from settings import settings
from store import crud
from store.db import session_scope
from store.models import Company, OnboardingRequest, RequestState


@task(name="reply-to-requester", retries=2, retry_delay_seconds=[10, 60])
def company_recipient(request: OnboardingRequest, company: Company) -> str | None:
    """Where mail about the company's integration may go for this request: the sender intake
    proved (`reply_to`), while still one of the company's contacts, never a robot or us."""
    recipient = request.reply_to
    own = (settings.reply_from, settings.imap_user)
    if not (company.speaks_for_it(recipient) and may_reply_to(recipient, own_addresses=own)):
        return None
    return recipient


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


def subject_for(request_id: int) -> str:
    """Our own subject for every message about a request, never the sender's."""
    return f"Re: your HotSpot SpotID request #{request_id}"


async def send_once(
    request_id: int, kind: str, recipient: str, body: str, in_reply_to: str | None
) -> bool:
    """Claim this email for the request, send it, mark it sent: never sent twice once sent."""
    with session_scope() as session:
        claim = crud.claim_reply(session, request_id=request_id, kind=kind, recipient=recipient)
        if claim is None:
            return False
        claim_id = claim.id or 0
    message = compose_message(
        sender=settings.reply_from,
        to=recipient,
        subject=subject_for(request_id),
        body=body,
        in_reply_to=in_reply_to,
    )
    await asyncio.to_thread(smtp.send, message, settings)
    with session_scope() as session:
        crud.mark_reply_sent(session, reply_id=claim_id)
    return True


@task(name="answer-status-question", retries=2, retry_delay_seconds=[10, 60])
async def answer_status_question(request_id: int) -> bool:
    """Answer a contact's question about its integration with where it stands, once.

    Only a question intake admitted (its sender passed authentication and speaks for the
    company) is answered; anything else is held and gets nothing company-specific.
    """
    if not settings.smtp_host:
        return False
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        if request.state != RequestState.status_question or request.company_id is None:
            return False
        company = crud.get_company(session, company_id=request.company_id)
        recipient = company_recipient(request, company)
        if recipient is None:
            return False
        standing = crud.company_standing(session, company=company)
        parsed = request.parsed or {}
    body = status_answer_body(standing, language=parsed.get("language", "en"))
    sent = await send_once(request_id, "status", recipient, body, parsed.get("message_id"))
    if sent:
        get_run_logger().info(
            "Answered %s's status question (request %s) from %s",
            standing.company,
            request_id,
            recipient,
        )
    return sent
