"""The token follow-up: ask the waiting request's contact for the company's HotSpot token.

When a request waits on its company's HotSpot token, the requester (only a sender that passed
authentication: the request's `reply_to`, a contact of its company) gets a single-use signed
link to a page of the web app that asks for it. The token typed there is tried on HotSpot at
once (a TEST123 push with it at a SpotID waiting on it: 403 is a wrong token), then stored
with the same answer function as ops' `token` command and the UI's question. Unanswered after
two days: one reminder; expired: ops are told (the sweep's step).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from prefect import get_run_logger, task
from pydantic import BaseModel
from sqlmodel import Session

from flows.questions import Question, open_question
from hotspot import HotSpotAPIError, PermissionDenied
from inbox import smtp
from inbox.replies import compose_message, token_link_body
from settings import settings
from store import crud
from store.db import session_scope
from store.models import IssuedLink, MappingState, PermitState, utcnow
from tasks.permits import permit_request, revoke_test_permit
from tasks.policy import hotspot_client
from tasks.recorder import Recorder, set_mapping, set_permit
from tasks.replies import company_recipient, send_once
from trust.links import issue_token_link, token_link_token, token_link_url

REMIND_AFTER = timedelta(days=2)


@task(name="offer-token-link", retries=2, retry_delay_seconds=[10, 60])
async def offer_token_link(request_id: int) -> bool:
    """Email the requester a link to the token page, once per wait; False when none is sent
    (the request does not wait on the token, no proven sender, no SMTP, or sent already)."""
    if not settings.smtp_host:
        return False
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        if open_question(session, request) != Question.token or request.company_id is None:
            return False
        company = crud.get_company(session, company_id=request.company_id)
        recipient = company_recipient(request, company)
        if recipient is None:
            return False  # only a contact who passed authentication is ever sent a link
        links = crud.request_token_links(session, request_id=request_id)
        if any(link.used_at is None for link in links):
            # A link of this wait is out (or expired, or revoked by ops): no second one.
            link = crud.open_token_link(session, request_id=request_id, now=utcnow())
            if link is None:
                return False
            link_id, url, expires = link.id or 0, _url(link), link.expires_at
        else:
            link_id, url, expires = 0, "", utcnow()
        spots = waiting_spots(session, request_id)
        name, in_reply_to = company.name, (request.parsed or {}).get("message_id")
        company_id = company.id or 0
    if not link_id:
        link_id, url = issue_token_link(
            company_id=company_id, request_id=request_id, recipient=recipient
        )
        expires = utcnow() + timedelta(hours=settings.token_link_hours)
    body = token_link_body(company=name, spots=spots, url=url, expires=expires, reminder=False)
    sent = await send_once(request_id, f"token-link-{link_id}", recipient, body, in_reply_to)
    if sent:
        get_run_logger().info(
            "Request %s waits on %s's HotSpot token: sent a token link (id %s) to %s",
            request_id,
            name,
            link_id,
            recipient,
        )
    return sent


def _url(link: IssuedLink) -> str:
    return token_link_url(token_link_token(link.id or 0, int(link.expires_at.timestamp())))


def waiting_spots(session: Session, request_id: int) -> list[tuple[str, str]]:
    """(location, SpotID) of the request's mappings that wait on the token."""
    names = {
        line.spot_id: line.location for line in crud.request_spots(session, request_id=request_id)
    }
    return [
        (names.get(m.spot_id, ""), m.spot_id)
        for m in crud.request_mappings(session, request_id=request_id)
        if m.state == MappingState.waiting_on_ops
    ]


# --- trying a token the customer typed ---------------------------------------------------


class TokenRefused(Exception):
    """HotSpot refused the token (its answer is the message, safe to show the customer)."""


async def try_company_token(request_id: int, token: str) -> None:
    """Push one TEST123 permit with the token at a SpotID of the request that waits on it.

    HotSpot's 403 raises `TokenRefused` with its answer, and nothing is stored. Accepted, the
    permit is kept as that SpotID's test permit (recorded before the push, so the resumed run
    verifies it and the sweep withdraws it if nothing does). `HotSpotUnavailable` passes up.
    """
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        company = crud.get_company(session, company_id=request.company_id or 0)
        stored = crud.company_token(company)
        waiting = [
            m
            for m in crud.request_mappings(session, request_id=request_id)
            if m.state == MappingState.waiting_on_ops
        ]
        if not waiting:
            return  # nothing to try it on: HotSpot will judge it in the run
        mapping = waiting[0]
        active = crud.active_permits(session, mapping_ids=[mapping.id or 0]).get(mapping.id or 0)
    async with hotspot_client(person_waiting=True) as hotspot, Recorder() as record:
        if active is not None:  # pushed without the token (or another): withdrawn first
            await revoke_test_permit(hotspot, active, stored, record)
            await record.flush()
        with session_scope() as session:
            start = utcnow()
            permit = crud.add_permit(
                session,
                mapping=crud.get_mapping(session, mapping_id=mapping.id or 0),
                external_id=f"offstreet-test-{uuid.uuid4().hex}",
                with_company_token=True,
                start_time=start,
                end_time=start + timedelta(minutes=settings.test_permit_validity_minutes),
            )
        try:
            pushed = await hotspot.create_permit(permit_request(permit), company_token=token)
        except PermissionDenied as exc:
            record(set_permit(permit.id or 0, state=PermitState.refused))
            raise TokenRefused(exc.message) from None
        except HotSpotAPIError as exc:
            record(set_permit(permit.id or 0, state=PermitState.refused))
            raise TokenRefused(exc.message) from None
        record(
            set_permit(permit.id or 0, state=PermitState.issued, hotspot_permit_id=pushed.permit_id)
        )
        record(set_mapping(mapping.id or 0, MappingState.test_issued))


# --- the sweep's step: one reminder, then ops are told ---------------------------------------


class TokenLinkFollowUp(BaseModel):
    """What the sweep did about one unanswered token link."""

    link_id: int
    request_id: int
    company: str
    action: str  # "reminded" or "ops told"


@task(name="follow-up-token-links")
async def follow_up_token_links(now: datetime | None = None) -> list[TokenLinkFollowUp]:
    """Remind the requester once after two days unanswered; tell ops once a link expired
    while its request still waits on the token."""
    now = now or datetime.now(UTC)
    done: list[TokenLinkFollowUp] = []
    with session_scope() as session:
        due = []
        for link in crud.token_links_to_follow(session):
            request = crud.get_request(session, request_id=link.request_id or 0)
            if open_question(session, request) != Question.token:
                continue  # answered elsewhere, refused or gone on: nothing to follow up
            company_name = crud.get_company(session, company_id=link.company_id).name
            expired = link.expires_at <= now
            if expired or (link.reminded_at is None and now - link.issued_at >= REMIND_AFTER):
                due.append((link, company_name, expired, waiting_spots(session, request.id or 0)))
                session.expunge(link)
    for link, company, expired, spots in due:
        if expired:
            await _tell_ops(link, company)
            with session_scope() as session:
                crud.mark_link_followed(session, link_id=link.id or 0, expiry_noticed=True)
            action = "ops told"
        else:
            body = token_link_body(
                company=company, spots=spots, url=_url(link), expires=link.expires_at, reminder=True
            )
            if settings.smtp_host:
                await send_once(
                    link.request_id or 0,
                    f"token-link-{link.id}-reminder",
                    link.recipient or "",
                    body,
                    None,
                )
            with session_scope() as session:
                crud.mark_link_followed(session, link_id=link.id or 0, reminded=True)
            action = "reminded"
        done.append(
            TokenLinkFollowUp(
                link_id=link.id or 0,
                request_id=link.request_id or 0,
                company=company,
                action=action,
            )
        )
    return done


async def _tell_ops(link: IssuedLink, company: str) -> None:
    """A warning in the sweep's log and, with OPS_NOTIFY_EMAIL and SMTP set, an email."""
    what = (
        f"The HotSpot token link sent to {link.recipient} for request {link.request_id} "
        f"({company}) expired unanswered on {link.expires_at:%Y-%m-%d %H:%M} UTC"
    )
    todo = (
        f'Get the token from {company} and give it with `hotspot-onboard token "{company}"` '
        "(stdin) or in the request's run in the Prefect UI."
    )
    get_run_logger().warning("%s. %s", what, todo)
    if not (settings.smtp_host and settings.ops_notify_email):
        return
    message = compose_message(
        sender=settings.reply_from,
        to=", ".join(settings.ops_notify_email),
        subject=f"HotSpot token link expired unanswered: {company} · request {link.request_id}",
        body=f"{what}.\n\n{todo}\n",
    )
    await asyncio.to_thread(smtp.send, message, settings)
