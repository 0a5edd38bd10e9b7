"""The mailbox connection: verified TLS, MOVE after login, raw bytes by UID."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from inbox.imap import HeaderOnly, Inbox, MailboxConfigError
from settings import Settings
from tests.servers.dovecot import DovecotServer

RAW = b"From: jane@acme.example\r\nSubject: Lot A\r\nMessage-ID: <1@acme>\r\n\r\nLot A: 14283\r\n"


def mailbox_settings(dovecot: DovecotServer, **changes: object) -> Settings:
    base = {
        "IMAP_HOST": dovecot.host,
        "IMAP_PORT": dovecot.port,
        "IMAP_USER": dovecot.user,
        "IMAP_PASSWORD": dovecot.password,
    }
    return Settings(**base).model_copy(update=changes)  # type: ignore[arg-type]


def test_move_is_used_and_nothing_is_deleted(dovecot: DovecotServer, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.ca_file))
    uid = dovecot.append(RAW)
    with Inbox(mailbox_settings(dovecot)) as inbox:
        assert "MOVE" in inbox.mailbox.client.capabilities  # refreshed after login
        assert inbox.uids() == [uid]
        assert inbox.fetch(uid) == RAW  # the exact bytes, not a re-serialisation
        inbox.move(uid, "Processed")
        assert inbox.uids() == []
    assert dovecot.messages("Processed") == [RAW]


def test_wrong_password_is_a_clear_configuration_error(dovecot: DovecotServer, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.ca_file))
    wrong = mailbox_settings(dovecot, imap_password=SecretStr("wrong"))
    with pytest.raises(MailboxConfigError, match="refused the login"):
        with Inbox(wrong):
            pass


def test_a_message_over_the_size_bound_is_not_downloaded(
    dovecot: DovecotServer, monkeypatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.ca_file))
    big = RAW + b"Lot B: 15320\r\n" * 200
    small_uid, big_uid = dovecot.append(RAW), dovecot.append(big)
    with Inbox(mailbox_settings(dovecot, max_message_bytes=len(big) - 1)) as inbox:
        assert inbox.fetch(small_uid) == RAW
        header = inbox.fetch(big_uid)
        assert isinstance(header, HeaderOnly) and header.full_size == len(big)
        assert header == RAW.split(b"\r\n\r\n")[0] + b"\r\n\r\n"  # no body
        inbox.move(big_uid, "Needs review")
        assert inbox.fetch(big_uid) is None  # gone from the folder
    assert dovecot.messages("Needs review") == [big]  # untouched on the server
