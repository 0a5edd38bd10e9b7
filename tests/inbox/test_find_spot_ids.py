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


async def test_locations_named_without_a_spot_id_are_proposed_not_dropped(
    mailbox: DovecotServer, smtp_capture: SmtpCapture, web: Web
) -> None:
    mailbox.append(question("Lot A: 14283\nLot D: we don't know its SpotID"))
    await watch_inbox(once=True)

    # Lot A onboards as sent; Lot D becomes a request of its own, its SpotID proposed.
    assert states() == {1: RequestState.live, 2: RequestState.finding_spot_ids}
    path, text = proposals_mail(smtp_capture)
    assert "Lot D: SpotID 17777" in text and "Lot A" not in text
    page = await web.client.get(path)
    confirmed = await web.client.post(
        path, data={"csrf_token": csrf_of(page.text), "confirm": ["0"]}
    )
    assert confirmed.status_code == 303, confirmed.text
    await web.onboardings_done()
    assert states() == {
        1: RequestState.live,
        2: RequestState.finding_spot_ids,
        3: RequestState.live,
    }


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
    again = run_cli("confirm", "1", hotspot_url=hotspot.url)
    assert again.returncode == 1  # once, and ops are told by whom
    assert "already confirmed by ops: onboarded as request 2" in again.stderr


async def test_an_unknown_sender_gets_no_proposals(
    mailbox: DovecotServer, smtp_capture: SmtpCapture, hotspot
) -> None:
    mailbox.append(question(ASK, sender="eve@elsewhere.example"))
    await watch_inbox(once=True)
    assert smtp_capture.messages == []
    assert states() == {1: RequestState.held}
    assert hotspot.state()["requests"].get("GET /v1/spots") is None


def rep_email(*, cc: str = "jane@acme.example", subject: str = "SpotIDs", auth: str = "") -> bytes:
    return (
        "From: Sam Rep <sam@htsp.ca>\r\nTo: hotspot@offstreet.example\r\n"
        f"Cc: {cc}\r\nSubject: {subject}\r\nMessage-ID: <rep-{cc}@htsp.ca>\r\n{auth}\r\n"
        "Hello Offstreet,\r\nFor our mutual customer:\r\n- Lot A: 14283\r\n- Lot D: 17777\r\n"
    ).encode()


async def test_a_hotspot_reps_request_waits_for_the_contacts_confirmation(
    mailbox: DovecotServer, smtp_capture: SmtpCapture, web: Web, hotspot
) -> None:
    mailbox.append(rep_email())
    mailbox.append(rep_email(cc="someone@else.example", subject="Harbor Lots spot ids"))
    mailbox.append(rep_email(cc="nobody@else.example", subject="Our customer"))
    assert await watch_inbox(once=True) == 3

    # Nothing applied on the rep's word: no HotSpot permit, nothing onboarded.
    assert hotspot.state()["permits"] == []
    assert states() == {
        1: RequestState.finding_spot_ids,
        2: RequestState.finding_spot_ids,  # Harbor Lots, named in the subject
        3: RequestState.held,  # names no company of ours
    }
    mails = {m.message["To"]: m.message.get_content() for m in smtp_capture.messages}
    assert set(mails) == {"jane@acme.example", "ops@harbor.example"}
    assert "sam@htsp.ca" not in smtp_capture.messages[0].rcpt_tos
    assert "Lot A: SpotID 14283 (as sent by HotSpot's sam@htsp.ca)" in mails["jane@acme.example"]

    # Jane confirms Lot D only: it becomes Acme's request and goes live.
    [match] = LINK.finditer(mails["jane@acme.example"])
    path = f"/f/{match.group(1)}/spot-ids"
    page = await web.client.get(path)
    confirmed = await web.client.post(
        path, data={"csrf_token": csrf_of(page.text), "confirm": ["1"]}
    )
    assert confirmed.status_code == 303, confirmed.text
    await web.onboardings_done()
    assert states()[4] == RequestState.live
    with session_scope() as session:
        lines = crud.request_spots(session, request_id=4)
        assert [(line.location, line.spot_id) for line in lines] == [("Lot D", "17777")]
        assert crud.get_request(session, request_id=4).sender == "jane@acme.example"


async def test_an_unauthenticated_rep_is_held(
    mailbox: DovecotServer, smtp_capture: SmtpCapture, monkeypatch, hotspot
) -> None:
    monkeypatch.setattr(settings, "mail_trusted_authserv_ids", ["mx.offstreet.example"])
    mailbox.append(rep_email())
    await watch_inbox(once=True)
    assert states() == {1: RequestState.held}
    assert smtp_capture.messages == []
    assert run_cli("retry", "1", hotspot_url=hotspot.url).returncode == 4  # still held
    assert hotspot.state()["permits"] == []
