"""Finding SpotIDs through the real mailbox: the proposals email, confirmed by the customer on
the page (to live) or by ops on the command line; unproven senders get nothing."""

from __future__ import annotations

import re

from flows.watch_inbox import watch_inbox
from settings import settings
from store import crud
from store.db import session_scope
from store.models import RequestState
from testing.cli import run_cli
from tests.flows.test_watch_inbox import mailbox
from tests.inbox.test_status_questions import question
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpCapture
from tests.web.conftest import Web, csrf_of, staff_key, web

__all__ = ["mailbox", "staff_key", "web"]  # fixtures, used below

LINK = re.compile(r"https?://\S+/f/(p[0-9]+\.[0-9]+\.[A-Za-z0-9_-]{43})/spot-ids")
ASK = "We'd like HotSpot, but we don't know our SpotIDs. Our lots:\n- Lot A\n- lot-d\n- Zoo Lot"


def proposals_mail(smtp: SmtpCapture) -> tuple[str, str]:
    [message] = [m for m in smtp.messages if "spot-ids" in m.message.get_content()]
    text = message.message.get_content()
    match = LINK.search(text)
    assert match, text
    return f"/f/{match.group(1)}/spot-ids", text


def states() -> dict[int, RequestState]:
    with session_scope() as session:
        return {r.id or 0: r.state for r in crud.list_requests(session)}


async def test_the_customer_confirms_the_proposals_and_goes_live(
    mailbox: DovecotServer, smtp_capture: SmtpCapture, web: Web
) -> None:
    mailbox.append(question(ASK))
    assert await watch_inbox(once=True) == 1

    path, text = proposals_mail(smtp_capture)
    assert "Lot A: SpotID 14283 (exact match" in text
    assert "Lot D: SpotID 17777 (exact match" in text  # "lot-d" is Acme's Lot D
    assert "Zoo Lot: not one of your locations at Offstreet" in text
    assert states() == {1: RequestState.finding_spot_ids}
    assert len(mailbox.messages(settings.imap_processed_folder)) == 1

    page = await web.client.get(path)
    assert page.status_code == 200 and "14283" in page.text and "17777" in page.text
    confirmed = await web.client.post(
        path,
        data={"csrf_token": csrf_of(page.text), "confirm": ["0"]},  # Lot A only
    )
    assert confirmed.status_code == 303, confirmed.text
    assert re.search(r"/requests/2\?sent=1$", confirmed.headers["location"])
    await web.onboardings_done()

    assert states() == {1: RequestState.finding_spot_ids, 2: RequestState.live}
    with session_scope() as session:
        lines = crud.request_spots(session, request_id=2)
        assert [(line.location, line.spot_id) for line in lines] == [("Lot A", "14283")]
        assert "confirmed by the customer" in (crud.get_request(session, request_id=1).reason or "")
    again = await web.client.get(path)
    assert "SpotIDs already confirmed" in again.text


async def test_ops_confirm_on_the_command_line(
    mailbox: DovecotServer, smtp_capture: SmtpCapture, hotspot
) -> None:
    mailbox.append(
        question("Bonjour, nous ne connaissons pas nos SpotID.", sender="bob@acme.example")
    )
    await watch_inbox(once=True)
    proposals_mail(smtp_capture)  # every Acme location: Lot A, B, Garage C, Lot D found

    confirmed = run_cli("confirm", "1", "--verify-timeout", "2", hotspot_url=hotspot.url)

    # Lot B waits on Acme's token (exit 4); the others go live.
    assert confirmed.returncode == 4, confirmed.stdout + confirmed.stderr
    with session_scope() as session:
        lines = crud.request_spots(session, request_id=2)
        assert {line.spot_id for line in lines} == {"14283", "15320", "16001", "17777"}
    assert run_cli("confirm", "1", hotspot_url=hotspot.url).returncode == 1  # once


async def test_an_unknown_sender_gets_no_proposals(
    mailbox: DovecotServer, smtp_capture: SmtpCapture, hotspot
) -> None:
    mailbox.append(question(ASK, sender="eve@elsewhere.example"))
    await watch_inbox(once=True)
    assert smtp_capture.messages == []
    assert states() == {1: RequestState.held}
    assert hotspot.state()["requests"].get("GET /v1/spots") is None
