"""The test servers behave as the real ones the watcher meets: TLS, login, IDLE, MOVE, restarts."""

from __future__ import annotations

import imaplib
import os
import smtplib
import ssl
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from imap_tools import AND, MailBox, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError

from tests.servers.dovecot import DovecotError, DovecotServer
from tests.servers.smtp import SmtpCapture

# The fixtures `dovecot` and `smtp_capture` (tests/conftest.py may list the same plugin).
pytest_plugins = ["tests.servers.fixtures"]


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    """These tests run no flow: skip the session's Prefect API (tests/conftest.py) here."""
    yield


def email_bytes(subject: str, body: str = "Hello") -> bytes:
    message = EmailMessage()
    message["From"] = "Dana Customer <dana@customer.example>"
    message["To"] = "ops@offstreet.example"
    message["Subject"] = subject
    message.set_content(body)
    return message.as_bytes()


def login(server: DovecotServer) -> MailBox:
    """The way the watcher connects: imap-tools over TLS, verifying against the test CA."""
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    return MailBox(server.host, server.port, ssl_context=ctx).login(server.user, server.password)


def refresh_capabilities(mailbox: MailBox) -> tuple[str, ...]:
    """Ask again after login: imaplib keeps the capabilities it read before login.

    Dovecot (as most servers) adds MOVE, UIDPLUS, … only once logged in, and imap-tools'
    `mailbox.move` sends MOVE only when `'MOVE' in mailbox.client.capabilities`; otherwise it
    falls back to COPY + \\Deleted + EXPUNGE.
    """
    typ, data = mailbox.client.capability()
    assert typ == "OK"
    mailbox.client.capabilities = tuple(data[-1].decode().upper().split())
    return mailbox.client.capabilities


# -- TLS and login ------------------------------------------------------------------------------


def test_tls_verifies_against_the_fixture_ca(dovecot: DovecotServer) -> None:
    ctx = ssl.create_default_context(cafile=str(dovecot.ca_file))
    for host in ("127.0.0.1", "localhost"):  # both names are in the certificate
        with imaplib.IMAP4_SSL(host, dovecot.port, ssl_context=ctx) as imap:
            assert imap.sock.version() in ("TLSv1.2", "TLSv1.3")
            assert imap.welcome.startswith(b"* OK")


def test_tls_fails_against_the_default_trust_store(dovecot: DovecotServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(dovecot.host, dovecot.port, ssl_context=ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        MailBox(dovecot.host, dovecot.port, ssl_context=ssl.create_default_context())


def test_login_with_the_right_password_only(dovecot: DovecotServer) -> None:
    with login(dovecot) as mailbox:
        assert mailbox.folder.get() == "INBOX"
    ctx = ssl.create_default_context(cafile=str(dovecot.ca_file))
    with pytest.raises(MailboxLoginError):
        MailBox(dovecot.host, dovecot.port, ssl_context=ctx).login(dovecot.user, "wrong")
    assert "Password mismatch" in dovecot.log()  # auth_verbose says why


def test_plaintext_port_is_optional() -> None:
    with DovecotServer(plaintext=True) as server:
        assert server.plain_port is not None
        with MailBoxUnencrypted(server.host, server.plain_port).login(
            server.user, server.password
        ) as mailbox:
            assert mailbox.folder.get() == "INBOX"
        with login(server) as mailbox:  # IMAPS still there
            assert mailbox.folder.get() == "INBOX"


# -- mail ---------------------------------------------------------------------------------------


def test_append_then_fetch_with_imap_tools(dovecot: DovecotServer) -> None:
    uid = dovecot.append(email_bytes("Parking request #1"))
    with login(dovecot) as mailbox:
        [message] = list(mailbox.fetch(AND(all=True), mark_seen=False))
    assert message.uid == str(uid)
    assert message.subject == "Parking request #1"
    assert message.from_ == "dana@customer.example"
    # imaplib sends CRLF line ends (as IMAP wants), and Dovecot gives them back.
    assert dovecot.messages() == [email_bytes("Parking request #1").replace(b"\n", b"\r\n")]
    more = dovecot.append_many(email_bytes(f"Bulk {n}") for n in range(3))
    assert more == [uid + 1, uid + 2, uid + 3]


def test_capabilities_include_idle_and_move_after_login(dovecot: DovecotServer) -> None:
    with login(dovecot) as mailbox:
        before = mailbox.client.capabilities  # what the server said before login
        assert "IDLE" in before
        assert "MOVE" not in before
        after = refresh_capabilities(mailbox)
    assert {"IDLE", "MOVE", "UIDPLUS"} <= set(after)


def test_move_to_folders_the_client_creates(dovecot: DovecotServer) -> None:
    uid = dovecot.append(email_bytes("Needs a human"))
    with login(dovecot) as mailbox:
        for folder in ("Processed", "Needs review", "Rejected"):
            mailbox.folder.create(folder)
        refresh_capabilities(mailbox)
        mailbox.move(str(uid), "Needs review")
    assert sorted(dovecot.folders()) == ["INBOX", "Needs review", "Processed", "Rejected"]
    assert dovecot.messages() == []
    assert [b"Subject: Needs a human" in raw for raw in dovecot.messages("Needs review")] == [True]
    assert "copy from INBOX" not in dovecot.log()  # a real MOVE, not COPY + EXPUNGE


def test_create_folder_and_missing_folders(dovecot: DovecotServer) -> None:
    dovecot.create_folder("Processed/2025")  # parents come along
    dovecot.create_folder("Processed")  # already there: fine
    assert sorted(dovecot.folders()) == ["INBOX", "Processed", "Processed/2025"]
    with pytest.raises(DovecotError, match="TRYCREATE"):
        dovecot.append(email_bytes("Lost"), folder="Nowhere")
    uid = dovecot.append(email_bytes("Filed"), folder="Processed/2025", flags=r"\Seen")
    assert uid == 1
    assert len(dovecot.messages("Processed/2025")) == 1


def test_idle_sees_a_delivery_at_once(dovecot: DovecotServer) -> None:
    with login(dovecot) as mailbox:
        mailbox.idle.start()
        dovecot.wait_for_connections(1)  # as a watcher test waits for the watcher
        started = time.monotonic()
        dovecot.append(email_bytes("Pushed"))
        responses = mailbox.idle.poll(timeout=5)
        mailbox.idle.stop()
    assert any(line.endswith(b"EXISTS") for line in responses)
    assert time.monotonic() - started < 2


# -- restarts and dropped connections -----------------------------------------------------------


def test_restart_keeps_mail_and_uidvalidity_and_says_bye_to_idle(dovecot: DovecotServer) -> None:
    dovecot.create_folder("Processed")
    dovecot.append(email_bytes("Before restart"))
    port, validity = dovecot.port, dovecot.uidvalidity()
    mailbox = login(dovecot)
    mailbox.idle.start()

    dovecot.restart()

    # imap-tools returns the BYE as an IDLE response; the socket is closed after it.
    assert mailbox.idle.poll(timeout=5) == [b"* BYE Server shutting down."]
    with pytest.raises(imaplib.IMAP4.abort):
        mailbox.idle.stop()
    assert dovecot.port == port
    assert dovecot.uidvalidity() == validity
    assert dovecot.uidvalidity("Processed") > 0
    assert len(dovecot.messages()) == 1
    with login(dovecot) as again:
        assert [m.subject for m in again.fetch(mark_seen=False)] == ["Before restart"]


def test_crash_drops_idle_without_a_word(dovecot: DovecotServer) -> None:
    dovecot.append(email_bytes("Before crash"))
    mailbox = login(dovecot)
    mailbox.idle.start()

    started = time.monotonic()
    dovecot.restart(graceful=False)

    # No BYE: imap-tools swallows the EOF and returns nothing, at once rather than at timeout.
    assert mailbox.idle.poll(timeout=5) == []
    assert time.monotonic() - started < 1
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        mailbox.idle.stop()
    assert len(dovecot.messages()) == 1


def test_crashes_in_a_row_still_come_back(dovecot: DovecotServer) -> None:
    """A master killed mid start-up leaves a lock behind; start() must not wait it out."""
    started = time.monotonic()
    for _ in range(10):
        dovecot.restart(graceful=False)
    with login(dovecot) as mailbox:
        assert mailbox.folder.get() == "INBOX"
    assert time.monotonic() - started < 3


def test_kill_connections_keeps_the_server_up(dovecot: DovecotServer) -> None:
    mailbox = login(dovecot)
    mailbox.idle.start()
    assert dovecot.kill_connections() == 1
    assert mailbox.idle.poll(timeout=5) == [b"* BYE Server shutting down."]
    assert dovecot.connections() == 0
    with login(dovecot) as again:
        assert again.folder.get() == "INBOX"
    assert dovecot.kill_connections() == 0


def test_close_leaves_no_process_and_no_files() -> None:
    server = DovecotServer()
    with server:
        pid = server._process.pid if server._process else 0
        root = server.root
        assert server.running
    assert not server.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not Path(root).exists()


# -- SMTP ---------------------------------------------------------------------------------------


def reply(subject: str = "Re: Parking request") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "ops@offstreet.example"
    message["To"] = "dana@customer.example"
    message["Subject"] = subject
    message.set_content("Your SpotID is ready.")
    return message


def test_smtp_capture_without_login(smtp_capture: SmtpCapture) -> None:
    with smtplib.SMTP(smtp_capture.host, smtp_capture.port, timeout=5) as client:
        client.send_message(reply(), to_addrs=["dana@customer.example", "cc@customer.example"])
    [captured] = smtp_capture.wait_for(1)
    assert captured.mail_from == "ops@offstreet.example"
    assert captured.rcpt_tos == ("dana@customer.example", "cc@customer.example")
    assert captured.message["Subject"] == "Re: Parking request"
    assert captured.message.get_content().strip() == "Your SpotID is ready."
    assert captured.login is None
    smtp_capture.clear()
    assert smtp_capture.messages == []


def test_smtp_capture_with_login(smtp_capture: SmtpCapture) -> None:
    assert smtp_capture.credentials is not None
    user, password = smtp_capture.credentials
    assert user == "mailer@offstreet.example"
    with smtplib.SMTP(smtp_capture.host, smtp_capture.port, timeout=5) as client:
        client.login(user, password)
        client.send_message(reply())
    assert [m.login for m in smtp_capture.wait_for(1)] == ["mailer@offstreet.example"]
    with (
        pytest.raises(smtplib.SMTPAuthenticationError),
        smtplib.SMTP(smtp_capture.host, smtp_capture.port, timeout=5) as client,
    ):
        client.login(user, "wrong")


def test_smtp_capture_can_require_login_or_refuse_for_a_while() -> None:
    with SmtpCapture(credentials=("u", "p"), require_auth=True) as server:
        with smtplib.SMTP(server.host, server.port, timeout=5) as client:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.send_message(reply())
            assert refused.value.smtp_code == 530
            client.login("u", "p")
            server.fail_next(reply="451 4.3.0 Try again later")
            with pytest.raises(smtplib.SMTPDataError) as deferred:
                client.send_message(reply())
            assert deferred.value.smtp_code == 451
            client.send_message(reply("Re: second try"))
        assert [m.message["Subject"] for m in server.wait_for(1)] == ["Re: second try"]
        with pytest.raises(AssertionError, match="expected 2"):
            server.wait_for(2, timeout=0.1)


def test_smtp_capture_without_credentials_offers_no_auth() -> None:
    with SmtpCapture() as server, smtplib.SMTP(server.host, server.port, timeout=5) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            client.login("u", "p")
