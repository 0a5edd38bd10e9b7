"""Taking an email in from the mailbox: stored exactly once, then filed by outcome."""

from __future__ import annotations

import asyncio

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel
from sqlmodel import Session

from inbox.imap import Inbox
from parsers import NotASpotIDRequest, UnreadableInput
from store import crud
from store.db import session_scope
from store.models import Disposition, InboundMessage, RequestState, stored_id
from tasks.intake import admit, keep_unreadable, starts_a_run
from tasks.parse_worker import parse_email_bounded

DISPOSITION_BY_STATE = {
    RequestState.held: Disposition.held,
    RequestState.needs_review: Disposition.needs_review,
    RequestState.rejected: Disposition.rejected,
    RequestState.status_question: Disposition.answered,
    RequestState.finding_spot_ids: Disposition.answered,
}


class EmailIntake(BaseModel):
    """What became of one message: its request, and whether it starts an onboarding."""

    inbound_id: int
    request_id: int
    disposition: Disposition
    start_onboarding: bool


@task(name="take-in-email", cache_policy=NO_CACHE)
async def take_in_email(inbox: Inbox, uid: int, uidvalidity: int) -> EmailIntake | None:
    """Fetch the message and store it with its request, once per (UIDVALIDITY, UID)."""
    with session_scope() as session:
        seen = crud.get_inbound(session, mailbox=inbox.folder, uidvalidity=uidvalidity, uid=uid)
        if seen is not None:  # stored before a crash or a reconnect: decided already
            return _intake(session, seen)
    raw = await asyncio.to_thread(inbox.fetch, uid)
    if raw is None:
        return None  # moved away by someone else meanwhile
    with session_scope() as session:
        try:
            request, created = admit(session, raw, await parse_email_bounded(raw))
        except NotASpotIDRequest as exc:
            reason = f"not a SpotID request: {exc}"
            request, created = keep_unreadable(
                session, raw, reason=reason, state=RequestState.rejected
            )
        except UnreadableInput as exc:
            reason = f"the message could not be read ({exc}); a person should look at it"
            request, created = keep_unreadable(
                session, raw, reason=reason, state=RequestState.needs_review
            )
        disposition = (
            DISPOSITION_BY_STATE.get(request.state, Disposition.onboarding)
            if created
            else Disposition.duplicate
        )
        inbound = crud.record_inbound(
            session,
            message=InboundMessage(
                mailbox=inbox.folder,
                uidvalidity=uidvalidity,
                uid=uid,
                request_id=stored_id(request),
                disposition=disposition,
            ),
        )
        intake = _intake(session, inbound)
    logger = get_run_logger()
    logger.info(
        "Message UID %s → request %s (%s)%s",
        uid,
        intake.request_id,
        disposition.value,
        f": {request.reason}" if request.reason else "",
    )
    return intake


def _intake(session: Session, inbound: InboundMessage) -> EmailIntake:
    request = crud.get_request(session, request_id=inbound.request_id)
    return EmailIntake(
        inbound_id=inbound.id or 0,
        request_id=inbound.request_id,
        disposition=inbound.disposition,
        start_onboarding=inbound.disposition != Disposition.duplicate
        and request.flow_run_id is None
        and starts_a_run(request.state)
        # Questions are answered, SpotIDs to find are proposed: neither is onboarded as is
        # (proposals get a run only to let ops confirm them in the UI).
        and (
            (request.parsed or {}).get("kind", "spot_ids") == "spot_ids"
            or request.state == RequestState.finding_spot_ids
        ),
    )


def folder_for(inbox: Inbox, disposition: Disposition) -> str:
    s = inbox.settings
    return {
        Disposition.onboarding: s.imap_processed_folder,
        Disposition.duplicate: s.imap_processed_folder,
        Disposition.answered: s.imap_processed_folder,
        Disposition.held: s.imap_review_folder,
        Disposition.needs_review: s.imap_review_folder,
        Disposition.rejected: s.imap_rejected_folder,
    }[disposition]


@task(name="file-email", cache_policy=NO_CACHE)
async def file_email(inbox: Inbox, uid: int, intake: EmailIntake) -> str:
    """Move the message to the folder for its outcome (after it is stored; never deleted)."""
    folder = folder_for(inbox, intake.disposition)
    await asyncio.to_thread(inbox.move, uid, folder)
    with session_scope() as session:
        crud.mark_filed(session, inbound_id=intake.inbound_id, folder=folder)
    return folder
