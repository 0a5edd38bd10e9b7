"""The token follow-up: from the waiting run's email to live, in process, against the real
sandbox and the SMTP capture (the browser test is in test_token_browser.py)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from flows.onboard_request import onboard_request
from flows.questions import approve, store_token
from settings import settings
from store import crud
from store.db import session_scope
from store.models import PermitState, RequestState
from tasks.intake import record_request
from tasks.token_link import follow_up_token_links
from testing.demo import ACME_TOKEN, OPS
from tests.servers.smtp import SmtpCapture
from tests.web.conftest import Web, csrf_of

LINK = re.compile(r"https?://\S+/f/(t[0-9]+\.[0-9]+\.[A-Za-z0-9_-]{43})/hotspot-token")


def email(sender: str = "jane@acme.example", *, headers: str = "") -> bytes:
    return (
        f"From: Jane <{sender}>\r\nTo: hotspot@offstreet.example\r\n"
        f"Subject: SpotIDs\r\nMessage-ID: <lot-b-{sender}@acme.example>\r\n{headers}\r\n"
        "Hi,\r\n- Lot B: 15320\r\nThanks\r\n"
    ).encode()


def submit(raw: bytes) -> int:
    from parsers import parse_any

    return record_request(raw, parse_any(raw))


async def onboard(request_id: int) -> str:
    await onboard_request(request_id, 2, return_state=True)
    with session_scope() as session:
        return crud.get_request(session, request_id=request_id).state.value


def token_link_mail(mail: SmtpCapture, to: str = "jane@acme.example") -> tuple[str, str]:
    """(the link's path, the email's text) of the one token-link email to `to`."""
    found = [
        m
        for m in mail.messages
        if m.message["To"] == to and "hotspot-token" in m.message.get_content()
    ]
    assert len(found) == 1, [m.message.get_content() for m in mail.messages]
    text = found[0].message.get_content()
    match = LINK.search(text)
    assert match, text
    return f"/f/{match.group(1)}/hotspot-token", text


async def waiting_request(mail: SmtpCapture) -> int:
    request_id = submit(email())
    assert await onboard(request_id) == "waiting_on_ops"
    return request_id


async def test_the_customer_gives_the_token_on_the_link_and_it_goes_live(
    web: Web, mail: SmtpCapture, hotspot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    request_id = await waiting_request(mail)
    path, text = token_link_mail(mail)
    assert "reply with" not in text.lower() and "do not send the token by email" in text
    assert "Lot B: SpotID 15320" in text
    assert mail.messages[0].message["Subject"] == f"Re: your HotSpot SpotID request #{request_id}"

    page = await web.client.get(path)
    assert page.status_code == 200
    assert 'type="password"' in page.text and "Lot B: SpotID 15320" in page.text

    # A wrong token: HotSpot's 403 at once, nothing stored, the page asks again.
    wrong = await web.client.post(
        path, data={"csrf_token": csrf_of(page.text), "hotspot_token": "not-our-token"}
    )
    assert wrong.status_code == 422
    assert "HotSpot did not accept this token" in wrong.text
    assert "company token not accepted by Northgate Parking" in wrong.text
    assert 'type="password"' in wrong.text and "not-our-token" not in wrong.text
    with session_scope() as session:
        acme = crud.get_company_by_name(session, name="Acme Parking")
        assert acme is not None and crud.company_token(acme) is None
        assert crud.get_request(session, request_id=request_id).state == "waiting_on_ops"

    # The right one: stored encrypted, the onboarding goes on by itself to live.
    right = await web.client.post(
        path, data={"csrf_token": csrf_of(wrong.text), "hotspot_token": ACME_TOKEN}
    )
    assert right.status_code == 200 and "token received" in right.text
    await web.onboardings_done()
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        assert request.state == RequestState.live, request.reason
        acme = crud.get_company_by_name(session, name="Acme Parking")
        assert acme is not None and crud.company_token(acme) == ACME_TOKEN
        assert ACME_TOKEN not in (acme.hotspot_token_encrypted or "")
        permits = crud.permits_for_spot(session, spot_id="15320")
    # The accepted try was the SpotID's test permit: verified, then revoked; no other left.
    assert [p.state for p in permits if p.with_company_token] == [
        PermitState.refused,
        PermitState.revoked,
    ]
    assert {p["status"] for p in hotspot.state()["permits"]} == {"revoked"}

    # Single use: the link now says the token was received.
    again = await web.client.get(path)
    assert again.status_code == 200 and "Token already received" in again.text
    assert ACME_TOKEN not in caplog.text


async def test_ops_answering_first_wins_and_the_link_says_so(web: Web, mail: SmtpCapture) -> None:
    request_id = await waiting_request(mail)
    path, _ = token_link_mail(mail)
    page = await web.client.get(path)

    with session_scope() as session:  # what `hotspot-onboard token` and the UI's answer do
        acme = crud.get_company_by_name(session, name="Acme Parking")
        assert acme is not None
        answered = store_token(session, acme, ACME_TOKEN)
    assert [r.id for r in answered] == [request_id]

    late = await web.client.post(
        path, data={"csrf_token": csrf_of(page.text), "hotspot_token": "something-else"}
    )
    assert late.status_code == 200 and "Token already received" in late.text
    assert "Token already received" in (await web.client.get(path)).text
    with session_scope() as session:
        acme = crud.get_company_by_name(session, name="Acme Parking")
        assert acme is not None and crud.company_token(acme) == ACME_TOKEN


async def test_one_reminder_after_two_days_then_ops_are_told_when_it_expires(
    web: Web, mail: SmtpCapture
) -> None:
    request_id = await waiting_request(mail)
    token_link_mail(mail)
    with session_scope() as session:
        [link] = crud.request_token_links(session, request_id=request_id)
        issued, expires = link.issued_at, link.expires_at
    assert abs(expires - issued - timedelta(hours=settings.token_link_hours)).total_seconds() < 2
    mail.clear()

    assert await follow_up_token_links(now=issued + timedelta(hours=47)) == []
    [reminded] = await follow_up_token_links(now=issued + timedelta(hours=49))
    assert reminded.action == "reminded"
    [reminder] = mail.wait_for(1)
    assert reminder.message["To"] == "jane@acme.example"
    assert "A reminder" in reminder.message.get_content() and LINK.search(
        reminder.message.get_content()
    )
    assert await follow_up_token_links(now=issued + timedelta(hours=60)) == []  # once

    [told] = await follow_up_token_links(now=expires + timedelta(minutes=1))
    assert told.action == "ops told"
    _, notice = mail.wait_for(2)
    assert notice.message["To"] == OPS
    assert "expired unanswered" in notice.message["Subject"]
    assert 'hotspot-onboard token "Acme Parking"' in notice.message.get_content()
    assert await follow_up_token_links(now=expires + timedelta(hours=5)) == []


async def test_an_expired_or_forged_link_is_refused(web: Web, mail: SmtpCapture) -> None:
    await waiting_request(mail)
    path, _ = token_link_mail(mail)
    forged = path.replace(path[-20:-14], "AAAAAA")
    assert (await web.client.get(forged)).status_code == 403
    with session_scope() as session:  # ops revoke it, as `form-link --revoke` does
        link = crud.find_form_link(session, link_id=int(path.split("/")[2][1:].split(".")[0]))
        assert link is not None
        crud.revoke_form_link(session, link=link)
    refused = await web.client.get(path)
    assert refused.status_code == 403 and "withdrawn" in refused.text


async def test_no_link_for_a_sender_that_did_not_pass_authentication(
    web: Web, mail: SmtpCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "mail_trusted_authserv_ids", ["mx.offstreet.example"])
    request_id = submit(email())  # no Authentication-Results from our border MTA: held
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        assert request.state == RequestState.held and request.reply_to is None
        acme = crud.get_company_by_name(session, name="Acme Parking")
        assert acme is not None
        approve(session, request, acme)  # ops let it run

    assert await onboard(request_id) == "waiting_on_ops"

    assert mail.messages == []
    with session_scope() as session:
        assert crud.request_token_links(session, request_id=request_id) == []
