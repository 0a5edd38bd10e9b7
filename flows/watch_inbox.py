"""The inbox watcher: every email in the mailbox becomes exactly one request, then is filed.

Each message is stored (with its raw bytes and its UIDVALIDITY/UID) before it is moved, so
a crash at any point, a restart, or the same email delivered twice never starts two
onboardings and never loses one.
"""

from __future__ import annotations

import asyncio
import ssl

from prefect import flow, get_run_logger

from flows.launch import Onboardings
from inbox.imap import CONNECTION_ERRORS, Inbox
from inbox.replies import ReplyKind
from settings import settings
from store.models import Disposition, RequestState
from tasks import parse_worker
from tasks.discovery import propose_spot_ids, split_off_spot_ids_to_find
from tasks.email_intake import file_email, take_in_email
from tasks.intake import starts_a_run
from tasks.replies import answer_status_question, reply_to_requester


@flow(name="watch-inbox")
async def watch_inbox(once: bool = False) -> int:
    """Take in the mailbox's requests, start their onboardings; with `once`, wait for them."""
    logger = get_run_logger()
    watcher = asyncio.current_task()

    def stop(signal_number: int) -> None:
        if watcher is not None:
            watcher.cancel(f"stopped by signal {signal_number}")

    onboardings = Onboardings(on_signal=stop)
    taken, delay = 0, 1.0
    await asyncio.to_thread(parse_worker.WORKER.warm_up)  # emails are parsed in it
    while True:
        try:
            with Inbox(settings) as inbox:
                delay = 1.0
                logger.info("Watching %s on %s", inbox.folder, settings.imap_host)
                while True:
                    # 1. Catch up: everything still in the folder (a wake-up, a restart, a crash).
                    uidvalidity = await asyncio.to_thread(inbox.uidvalidity)
                    for uid in await asyncio.to_thread(inbox.uids):
                        taken += await take_in(inbox, uid, uidvalidity, onboardings)
                    if once:
                        break
                    # 2. IDLE until the server reports mail (renewed well inside 29 minutes).
                    try:
                        await asyncio.to_thread(inbox.wait_for_mail, settings.imap_idle_seconds)
                    except asyncio.CancelledError:  # stopping: do not sit out the IDLE
                        inbox.interrupt()
                        raise
            break
        except ssl.SSLCertVerificationError:
            raise  # a certificate that does not verify is a configuration error, not a blip
        except CONNECTION_ERRORS as exc:
            if once:
                raise
            logger.warning("Mailbox connection lost (%s); reconnecting in %.0f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.imap_reconnect_max_seconds)
    # 3. With --once, the onboardings started here run to their end before the watcher exits.
    await onboardings.wait(None)
    return taken


async def take_in(inbox: Inbox, uid: int, uidvalidity: int, onboardings: Onboardings) -> int:
    """Store one message, acknowledge it, start its onboarding, file it; 1 if it was taken."""
    intake = await take_in_email(inbox, uid, uidvalidity)
    if intake is None:
        return 0
    if intake.disposition == Disposition.onboarding:
        await reply_to_requester(intake.request_id, ReplyKind.acknowledgement)
        # Locations it names without a SpotID: a request of their own, with proposals.
        to_find = split_off_spot_ids_to_find(intake.request_id)
        if to_find is not None:
            await propose_spot_ids(to_find)
            if starts_a_run(RequestState.finding_spot_ids):  # deployed: ops may confirm
                await onboardings.start(to_find)
    if intake.disposition == Disposition.answered:
        # A contact asked where things stand, or does not know its SpotIDs (each task does
        # nothing unless the request is its kind).
        await answer_status_question(intake.request_id)
        await propose_spot_ids(intake.request_id)
    if intake.start_onboarding:
        await onboardings.start(intake.request_id)
    await file_email(inbox, uid, intake)
    return 1
