"""The inbox watcher against a real Dovecot (IMAPS) and a capturing SMTP server."""

from __future__ import annotations

import asyncio
import signal
import ssl
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from pydantic import SecretStr

from flows.watch_inbox import watch_inbox
from parsers import Limits
from settings import settings
from stack import process
from store import crud
from store.db import session_scope
from store.models import InboundMessage
from tasks import parse_worker
from testing.cli import start_cli
from testing.onboarding import bench_company
from tests.servers.dovecot import DovecotError, DovecotServer
from tests.servers.smtp import SmtpCapture

STALLS = {f"Stall {n}": str(300000 + n) for n in range(1, 13)}


def request_email(
    spots: dict[str, str],
    *,
    sender: str = "ops@bench.example",
    message_id: str | None = None,
    subject: str = "HotSpot Integration – SpotID Configuration Request",
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage(policy=policy.SMTP)  # CRLF line ends, as a mail server keeps them
    message["From"] = f"Bench Ops <{sender}>"
    message["To"] = "hotspot@offstreet.example"
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="bench.example")
    for name, value in (headers or {}).items():
        message[name] = value
    lines = "\n".join(f"- {location}: {spot}" for location, spot in spots.items())
    message.set_content(f"Hi,\nHere are our SpotIDs:\n{lines}\nThanks,\nBench Ops\n")
    return bytes(message)


@pytest.fixture
def mailbox(
    dovecot: DovecotServer,
    smtp_capture: SmtpCapture,
    store,
    hotspot,
    monkeypatch: pytest.MonkeyPatch,
) -> DovecotServer:
    """The watcher pointed at the test Dovecot (TLS verified against its CA) and SMTP."""
    monkeypatch.setattr(settings, "imap_host", dovecot.host)
    monkeypatch.setattr(settings, "imap_port", dovecot.port)
    monkeypatch.setattr(settings, "imap_user", dovecot.user)
    monkeypatch.setattr(settings, "imap_password", SecretStr(dovecot.password))
    monkeypatch.setattr(settings, "imap_reconnect_max_seconds", 1.0)
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.ca_file))
    monkeypatch.setattr(settings, "smtp_host", smtp_capture.host)
    monkeypatch.setattr(settings, "smtp_port", smtp_capture.port)
    monkeypatch.setattr(settings, "smtp_security", "none")
    with session_scope() as session:
        crud.upsert_company(session, company_in=bench_company(STALLS))
    return dovecot


def requests_by_state() -> Counter[str]:
    with session_scope() as session:
        return Counter(request.state.value for request in crud.list_requests(session))


async def test_burst_of_requests_each_onboarded_once(mailbox, smtp_capture, hotspot) -> None:
    burst = dict(list(STALLS.items())[:6])
    mailbox.append_many(request_email({loc: spot}) for loc, spot in burst.items())

    taken = await watch_inbox(once=True)

    assert taken == len(burst)
    assert mailbox.messages("INBOX") == []
    assert len(mailbox.messages("Processed")) == len(burst)
    assert requests_by_state() == {"live": len(burst)}
    assert Counter(p["spot_id"] for p in hotspot.state()["permits"]) == Counter(burst.values())
    kinds = Counter(m.message["Subject"].startswith("Re:") for m in smtp_capture.messages)
    assert kinds == {True: 2 * len(burst)}  # an acknowledgement and a confirmation each
    for sent in smtp_capture.messages:
        assert sent.message["Auto-Submitted"] == "auto-replied"
        assert sent.message["In-Reply-To"]


async def test_the_same_email_twice_is_one_onboarding(mailbox, hotspot) -> None:
    raw = request_email({"Stall 1": STALLS["Stall 1"]})
    mailbox.append(raw)
    mailbox.append(raw)

    assert await watch_inbox(once=True) == 2

    assert requests_by_state() == {"live": 1}
    assert len(hotspot.state()["permits"]) == 1
    assert len(mailbox.messages("Processed")) == 2
    with session_scope() as session:
        dispositions = sorted(
            m.disposition.value for m in session.exec(InboundMessage.__table__.select())
        )
    assert dispositions == ["duplicate", "onboarding"]


async def test_crash_after_storing_before_moving(mailbox, hotspot, monkeypatch) -> None:
    mailbox.append(request_email({"Stall 2": STALLS["Stall 2"]}))

    async def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the watcher died here")

    with monkeypatch.context() as patch:
        patch.setattr("flows.watch_inbox.reply_to_requester", crash)
        with pytest.raises(RuntimeError, match="died here"):
            await watch_inbox(once=True)
    assert len(mailbox.messages("INBOX")) == 1  # not moved: it would have been lost
    assert requests_by_state() == {"received": 1}  # but stored, raw and all

    assert await watch_inbox(once=True) == 1

    assert requests_by_state() == {"live": 1}
    assert mailbox.messages("INBOX") == [] and len(mailbox.messages("Processed")) == 1
    assert len(hotspot.state()["permits"]) == 1


async def test_server_restart_during_idle(mailbox, hotspot) -> None:
    watcher = asyncio.create_task(watch_inbox())
    try:
        mailbox.append(request_email({"Stall 3": STALLS["Stall 3"]}))
        await wait_until(lambda: len(mailbox.messages("Processed")) == 1)
        await asyncio.to_thread(mailbox.restart)
        mailbox.append(request_email({"Stall 4": STALLS["Stall 4"]}))
        await wait_until(lambda: len(mailbox.messages("Processed")) == 2)
        await wait_until(lambda: requests_by_state() == {"live": 2})
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    assert mailbox.messages("INBOX") == []


async def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if await asyncio.to_thread(condition):
                return
        except DovecotError:
            pass  # the watcher has not created the folder yet
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.2)


async def test_non_request_is_kept_and_filed_as_rejected(mailbox, smtp_capture) -> None:
    newsletter = EmailMessage(policy=policy.SMTP)
    newsletter["From"] = "news@parking-weekly.example"
    newsletter["Subject"] = "This week in parking"
    newsletter["Message-ID"] = make_msgid()
    newsletter.set_content("Ten tips for a tidier garage. Unsubscribe any time.")
    mailbox.append(bytes(newsletter))
    auto_reply = request_email(
        {"Stall 5": STALLS["Stall 5"]}, headers={"Auto-Submitted": "auto-replied"}
    )
    mailbox.append(auto_reply)

    assert await watch_inbox(once=True) == 2

    assert len(mailbox.messages("Rejected")) == 2
    with session_scope() as session:
        kept = crud.list_requests(session)
    assert [r.state.value for r in kept] == ["rejected", "rejected"]
    assert kept[0].raw == bytes(newsletter) and "not a SpotID request" in (kept[0].reason or "")
    assert smtp_capture.messages == []  # no reply to a newsletter, never to an auto-reply


async def test_unknown_sender_is_held_for_review(mailbox, smtp_capture, hotspot) -> None:
    mailbox.append(request_email({"Stall 6": STALLS["Stall 6"]}, sender="eve@elsewhere.example"))

    assert await watch_inbox(once=True) == 1

    assert requests_by_state() == {"held": 1}
    assert len(mailbox.messages("Needs review")) == 1
    assert hotspot.state()["permits"] == []
    assert smtp_capture.messages == []


async def test_failed_dmarc_is_held_even_from_a_contact(mailbox, smtp_capture, hotspot) -> None:
    forged = request_email(
        {"Stall 9": STALLS["Stall 9"]},
        headers={
            "Authentication-Results": "mx.offstreet.example; spf=fail smtp.mailfrom=bench.example;"
            " dmarc=fail header.from=bench.example"
        },
    )
    mailbox.append(forged)

    assert await watch_inbox(once=True) == 1

    assert requests_by_state() == {"held": 1}
    with session_scope() as session:
        [held] = crud.list_requests(session)
    assert "dmarc=fail" in (held.reason or "")
    assert hotspot.state()["permits"] == [] and smtp_capture.messages == []


async def test_with_sender_authentication_a_forged_contact_is_held(
    mailbox, smtp_capture, hotspot, monkeypatch
) -> None:
    monkeypatch.setattr(settings, "mail_trusted_authserv_ids", ["mx.offstreet.example"])
    ours = "mx.offstreet.example; dkim=pass header.d=bench.example; dmarc=pass"
    mailbox.append(request_email({"Stall 10": STALLS["Stall 10"]}))  # no header: anyone
    mailbox.append(  # the sender's own host vouching for itself
        request_email(
            {"Stall 11": STALLS["Stall 11"]},
            headers={"Authentication-Results": "smtp.evil.test; dmarc=pass"},
        )
    )
    mailbox.append(
        request_email({"Stall 12": STALLS["Stall 12"]}, headers={"Authentication-Results": ours})
    )

    assert await watch_inbox(once=True) == 3

    assert requests_by_state() == {"held": 2, "live": 1}
    assert len(mailbox.messages("Needs review")) == 2
    assert [p["spot_id"] for p in hotspot.state()["permits"]] == [STALLS["Stall 12"]]
    acknowledgement, live = [m.message for m in smtp_capture.messages]  # only the proven one
    assert acknowledgement["To"] == live["To"] == "ops@bench.example"
    assert live["Subject"] == "Re: your HotSpot SpotID request #3"


async def test_refusal_reply_lists_the_problem(mailbox, smtp_capture) -> None:
    mailbox.append(request_email({"Stall 7": "99999"}))

    await watch_inbox(once=True)

    assert requests_by_state() == {"rejected": 1}
    acknowledgement, refusal = [m.message.get_content() for m in smtp_capture.messages]
    assert "Stall 7: SpotID 99999" in acknowledgement
    assert "Stall 7: SpotID 99999 — HotSpot does not know this SpotID" in refusal
    assert "Subject: Re: your HotSpot SpotID request #1" in str(smtp_capture.messages[1].message)


async def test_no_replies_without_smtp(mailbox, smtp_capture, monkeypatch) -> None:
    monkeypatch.setattr(settings, "smtp_host", "")
    mailbox.append(request_email({"Stall 8": STALLS["Stall 8"]}))

    await watch_inbox(once=True)

    assert requests_by_state() == {"live": 1}
    assert smtp_capture.messages == []


async def test_certificate_is_verified_against_the_trust_store(mailbox, monkeypatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")  # the test CA is not in the system's trust store
    with pytest.raises(ssl.SSLCertVerificationError):
        await watch_inbox(once=True)


async def test_an_oversize_email_is_kept_unread_and_intake_goes_on(
    mailbox, hotspot, monkeypatch
) -> None:
    big = request_email({"Stall 1": STALLS["Stall 1"]}) + b"Filler line.\r\n" * 100
    monkeypatch.setattr(settings, "max_message_bytes", len(big) - 100)
    mailbox.append(big)
    mailbox.append(request_email({"Stall 2": STALLS["Stall 2"]}))

    assert await watch_inbox(once=True) == 2

    assert requests_by_state() == {"needs_review": 1, "live": 1}
    assert len(mailbox.messages("Needs review")) == 1  # the whole message, for a person
    with session_scope() as session:
        kept = next(r for r in crud.list_requests(session) if r.state.value == "needs_review")
    assert "over MAX_MESSAGE_BYTES" in (kept.reason or "")
    assert kept.raw.endswith(b"\r\n\r\n") and b"Filler line" not in kept.raw  # header only
    assert [p["spot_id"] for p in hotspot.state()["permits"]] == [STALLS["Stall 2"]]


async def test_an_email_over_the_parse_time_limit_is_filed_for_review(
    mailbox, hotspot, monkeypatch
) -> None:
    # The parser's line bounds lifted, so that a megabyte of pairs takes seconds to read.
    lifted = Limits(max_line_chars=10**9, max_numbers_per_line=10**9, max_number_lines=10**9)
    monkeypatch.setattr(parse_worker, "limits_from", lambda _settings: lifted)
    monkeypatch.setattr(settings, "parse_timeout_seconds", 0.5)
    hostile = request_email({"Stall 3": STALLS["Stall 3"]}).replace(
        b"Here are our SpotIDs:", b"Stall 3 " + b"Lot A 14283 " * 90_000
    )
    mailbox.append(hostile)
    mailbox.append(request_email({"Stall 4": STALLS["Stall 4"]}))

    assert await watch_inbox(once=True) == 2

    assert requests_by_state() == {"needs_review": 1, "live": 1}
    with session_scope() as session:
        kept = next(r for r in crud.list_requests(session) if r.state.value == "needs_review")
    assert "PARSE_TIMEOUT_SECONDS" in (kept.reason or "") and kept.raw == hostile
    assert len(mailbox.messages("Needs review")) == 1
    assert [p["spot_id"] for p in hotspot.state()["permits"]] == [STALLS["Stall 4"]]


def test_the_watch_command_onboards_what_arrives_and_stops_on_sigterm(
    mailbox: DovecotServer, smtp_capture: SmtpCapture, hotspot, tmp_path: Path
) -> None:
    """`hotspot-onboard watch` as ops run it: a real process on the real mailbox."""
    watcher = start_cli(
        "watch",
        hotspot_url=hotspot.url,
        log=tmp_path / "watch.log",
        IMAP_HOST=mailbox.host,
        IMAP_PORT=str(mailbox.port),
        IMAP_USER=mailbox.user,
        IMAP_PASSWORD=mailbox.password,
        SSL_CERT_FILE=str(mailbox.ca_file),
        SMTP_HOST=smtp_capture.host,
        SMTP_PORT=str(smtp_capture.port),
        SMTP_SECURITY="none",
    )
    try:
        mailbox.append(request_email({"Stall 1": STALLS["Stall 1"]}))  # arrives while it waits
        live = process.wait_until(
            lambda: requests_by_state() == {"live": 1}, timeout=240, process=watcher
        )
        assert live, (tmp_path / "watch.log").read_text()
        assert len(smtp_capture.wait_for(2, timeout=120)) == 2  # acknowledged, confirmed live
        tree = [watcher.pid, *process.descendants(watcher.pid)]
    finally:
        watcher.send_signal(signal.SIGTERM)
        try:
            watcher.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.stop_tree(watcher.pid, timeout=0, sig=signal.SIGKILL)
            raise
    assert process.wait_until(
        lambda: not any(process.alive(p) for p in tree), timeout=30, process=None
    )
    assert mailbox.messages("Processed") and not mailbox.messages("INBOX")
