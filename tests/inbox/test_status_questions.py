"""Status questions through the real mailbox (Dovecot) to the SMTP capture: a live company, a
waiting one, one without an integration, and senders that get nothing."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from flows.onboard_request import onboard_request
from flows.watch_inbox import watch_inbox
from parsers import parse_any
from settings import settings
from store import crud
from store.db import session_scope
from store.models import RequestState
from tasks.intake import record_request
from tests.flows.test_watch_inbox import mailbox
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpCapture
from tests.web.test_token_link import email as lot_b_email

__all__ = ["mailbox"]  # the fixture, used below


def question(text: str, *, sender: str = "jane@acme.example", headers: str = "") -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = f"Someone <{sender}>"
    message["To"] = "hotspot@offstreet.example"
    message["Subject"] = "HotSpot"
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    for header in filter(None, headers.split("\n")):
        name, _, value = header.partition(": ")
        message[name] = value
    message.set_content(f"Hi,\n{text}\nThanks\n")
    return bytes(message)


async def onboard(raw: bytes) -> None:
    request_id = record_request(raw, parse_any(raw))
    await onboard_request(request_id, 2, return_state=True)


def answers(smtp: SmtpCapture, to: str) -> list[str]:
    return [
        m.message.get_content()
        for m in smtp.messages
        if m.message["To"] == to and "hotspot-token" not in m.message.get_content()
    ]


def stored(kind: str = "status_question") -> list[tuple[str, RequestState]]:
    with session_scope() as session:
        return [
            (r.sender or "", r.state)
            for r in crud.list_requests(session)
            if (r.parsed or {}).get("kind") == kind
        ]


async def test_a_live_company_is_told_which_lots_are_live(
    mailbox: DovecotServer, smtp_capture: SmtpCapture
) -> None:
    await onboard(question("- Lot A: 14283"))
    smtp_capture.clear()
    mailbox.append(question("Which lots are live?"))

    assert await watch_inbox(once=True) == 1

    [answer] = answers(smtp_capture, "jane@acme.example")
    assert "Acme Parking's HotSpot integration is live." in answer
    assert "Lot A (SpotID 14283): live" in answer
    assert "Lot B (no SpotID): not connected to HotSpot" in answer
    assert "reply with its HotSpot SpotID" in answer
    [reply] = [m for m in smtp_capture.messages if m.message["To"] == "jane@acme.example"]
    assert reply.message["Subject"] == "Re: your HotSpot SpotID request #2"
    assert reply.message["Auto-Submitted"] == "auto-replied"
    assert stored() == [("jane@acme.example", RequestState.status_question)]
    assert len(mailbox.messages(settings.imap_processed_folder)) == 1


async def test_a_waiting_company_is_answered_in_french_with_what_it_waits_on(
    mailbox: DovecotServer, smtp_capture: SmtpCapture
) -> None:
    await onboard(lot_b_email())  # Lot B waits on Acme's token (a token link is sent)
    mailbox.append(question("Où en est notre demande ?", sender="bob@acme.example"))

    await watch_inbox(once=True)

    [answer] = answers(smtp_capture, "bob@acme.example")
    assert "est en cours de mise en place" in answer
    assert "Lot B (SpotID 15320) : en attente de votre part" in answer
    assert "page sécurisée dont nous vous avons envoyé le lien" in answer


async def test_a_company_without_an_integration_is_told_so(
    mailbox: DovecotServer, smtp_capture: SmtpCapture
) -> None:
    mailbox.append(question("Do we already have HotSpot set up?", sender="ops@harbor.example"))

    await watch_inbox(once=True)

    [answer] = answers(smtp_capture, "ops@harbor.example")
    assert "Harbor Lots has no HotSpot integration with Offstreet yet." in answer
    assert "Riverside P1 (no SpotID)" in answer and "Acme" not in answer


async def test_unproven_senders_get_nothing(
    mailbox: DovecotServer, smtp_capture: SmtpCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    await onboard(question("- Lot A: 14283"))
    smtp_capture.clear()
    monkeypatch.setattr(settings, "mail_trusted_authserv_ids", ["mx.offstreet.example"])
    passed = "Authentication-Results: mx.offstreet.example; dmarc=pass header.from=acme.example"
    mailbox.append(question("Any update on our request?", sender="eve@elsewhere.example"))
    mailbox.append(question("Which lots are live?"))  # Jane's address, no trusted header
    forged = "Authentication-Results: mx.evil.test; dmarc=pass header.from=acme.example"
    mailbox.append(question("Do we already have HotSpot?", headers=forged))
    mailbox.append(
        question("Any update on our request?", sender="bob@acme.example", headers=passed)
    )

    assert await watch_inbox(once=True) == 4

    assert smtp_capture.messages and {m.message["To"] for m in smtp_capture.messages} == {
        "bob@acme.example"
    }
    assert sorted(stored()) == [
        ("bob@acme.example", RequestState.status_question),
        ("eve@elsewhere.example", RequestState.held),
        ("jane@acme.example", RequestState.held),
        ("jane@acme.example", RequestState.held),
    ]
    assert len(mailbox.messages(settings.imap_review_folder)) == 3


async def test_an_unsure_question_goes_to_needs_review(
    mailbox: DovecotServer, smtp_capture: SmtpCapture
) -> None:
    mailbox.append(question("Quick question on the HotSpot integration: still on track?"))

    await watch_inbox(once=True)

    assert smtp_capture.messages == []
    [(sender, state)] = stored("spot_ids")
    assert (sender, state) == ("jane@acme.example", RequestState.needs_review)
    assert len(mailbox.messages(settings.imap_review_folder)) == 1


async def test_a_held_question_is_never_onboarded(
    mailbox: DovecotServer, smtp_capture: SmtpCapture, hotspot
) -> None:
    from testing.cli import run_cli

    mailbox.append(question("Any update on our request?", sender="eve@elsewhere.example"))
    await watch_inbox(once=True)

    approved = run_cli("approve", "1", "--company", "Acme Parking", hotspot_url=hotspot.url)
    retried = run_cli("retry", "1", hotspot_url=hotspot.url)

    assert approved.returncode == retried.returncode == 1
    assert "is a status question, not SpotIDs to onboard" in approved.stderr
    assert stored() == [("eve@elsewhere.example", RequestState.held)]
    assert smtp_capture.messages == []
