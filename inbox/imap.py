"""The watched mailbox over IMAP (imap-tools): verified TLS, raw messages by UID, MOVE, IDLE."""

from __future__ import annotations

import contextlib
import imaplib
import re
import shlex
import socket
import ssl
import subprocess

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError, UnexpectedCommandStatusError

from settings import Settings

# What a dropped connection or a restarting server looks like to the watcher: reconnect.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    imaplib.IMAP4.abort,
    imaplib.IMAP4.error,
    UnexpectedCommandStatusError,
    OSError,
    EOFError,
)
# Logging out of a connection that is already gone.
_LOGOUT_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, AttributeError)


# The header of a message too large to download: enough to file and report it.
HEADER_BYTES = 64 * 1024
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class MailboxConfigError(RuntimeError):
    """The mailbox settings cannot work (no credentials, a failing token command)."""


class HeaderOnly(bytes):
    """The header of a message over MAX_MESSAGE_BYTES, its body left on the server."""

    full_size: int  # RFC822.SIZE: the whole message's size on the server

    def __new__(cls, header: bytes, full_size: int) -> HeaderOnly:
        value = super().__new__(cls, header)
        value.full_size = full_size
        return value


class Inbox:
    """One logged-in connection to the configured mailbox, its request folder selected."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.folder = settings.imap_folder
        self._timeout = timeout
        self._mailbox: BaseMailBox | None = None

    def __enter__(self) -> Inbox:
        mailbox = self._open()
        self._mailbox = mailbox
        self._login(mailbox)
        # imaplib keeps the capabilities the server sent before login; Dovecot (and others)
        # advertise MOVE only after it, and without MOVE imap-tools silently falls back to
        # copy + delete + expunge. Ask again.
        typ, data = mailbox.client.capability()
        if typ == "OK" and data and data[0]:
            mailbox.client.capabilities = tuple(data[0].decode().upper().split())
        for folder in self.filing_folders:
            if not mailbox.folder.exists(folder):
                mailbox.folder.create(folder)
        mailbox.folder.set(self.folder)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._mailbox is not None:
            try:
                self._mailbox.logout()
            except _LOGOUT_ERRORS:
                pass  # the connection is already gone
            self._mailbox = None

    @property
    def filing_folders(self) -> tuple[str, ...]:
        s = self.settings
        return (s.imap_processed_folder, s.imap_review_folder, s.imap_rejected_folder)

    @property
    def mailbox(self) -> BaseMailBox:
        if self._mailbox is None:
            raise RuntimeError("use `with Inbox(settings) as inbox:`")
        return self._mailbox

    def uidvalidity(self) -> int:
        return int(self.mailbox.folder.status(self.folder, ["UIDVALIDITY"])["UIDVALIDITY"])

    def uids(self) -> list[int]:
        """Every message now in the request folder (filed ones have moved out), oldest first."""
        return sorted(int(uid) for uid in self.mailbox.uids("ALL"))

    def fetch(self, uid: int) -> bytes | None:
        """The message's exact bytes, without marking it seen; None if it is gone.

        Its size is asked first: a message over MAX_MESSAGE_BYTES is not downloaded, only
        the first HEADER_BYTES of its header, returned as a `HeaderOnly`.
        """
        typ, data = self.mailbox.client.uid("FETCH", str(uid), "(RFC822.SIZE)")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"FETCH {uid} RFC822.SIZE failed: {data!r}")
        sizes = [_SIZE.search(item) for item in data if isinstance(item, bytes)]
        size = next((int(found.group(1)) for found in sizes if found), None)
        if size is None:
            return None
        if size > self.settings.max_message_bytes:
            header = self._fetch_body(uid, f"BODY.PEEK[HEADER]<0.{HEADER_BYTES}>")
            return None if header is None else HeaderOnly(header, size)
        return self._fetch_body(uid, "BODY.PEEK[]")

    def _fetch_body(self, uid: int, item: str) -> bytes | None:
        typ, data = self.mailbox.client.uid("FETCH", str(uid), f"({item})")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"FETCH {uid} failed: {data!r}")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                return bytes(part[1])
        return None

    def move(self, uid: int, folder: str) -> None:
        """File the message in `folder` (MOVE; nothing is ever deleted)."""
        self.mailbox.move(str(uid), folder)

    def wait_for_mail(self, timeout: float) -> None:
        """Sit in IDLE until the server reports a change or `timeout` passes."""
        self.mailbox.idle.wait(timeout=timeout)

    def interrupt(self) -> None:
        """Wake a thread sitting in `wait_for_mail` now (it gets a connection error): the
        watcher is stopping and must not wait for the IDLE timeout."""
        with contextlib.suppress(OSError, AttributeError):
            self.mailbox.client.sock.shutdown(socket.SHUT_RDWR)

    def _open(self) -> BaseMailBox:
        s = self.settings
        if s.imap_security == "none":
            return MailBoxUnencrypted(s.imap_host, s.imap_port, timeout=self._timeout)
        # The system trust store (SSL_CERT_FILE honoured): imap-tools' MailBox without an
        # ssl_context would not verify the server's certificate at all.
        context = ssl.create_default_context()
        if s.imap_security == "starttls":
            return MailBoxStartTls(
                s.imap_host, s.imap_port, ssl_context=context, timeout=self._timeout
            )
        return MailBox(s.imap_host, s.imap_port, ssl_context=context, timeout=self._timeout)

    def _login(self, mailbox: BaseMailBox) -> None:
        s = self.settings
        try:
            if s.imap_oauth2_token_command:
                mailbox.xoauth2(s.imap_user, _oauth2_token(s.imap_oauth2_token_command), None)
            elif s.imap_password is not None:
                mailbox.login(s.imap_user, s.imap_password.get_secret_value(), None)
            else:
                raise MailboxConfigError("set IMAP_PASSWORD or IMAP_OAUTH2_TOKEN_COMMAND")
        except MailboxLoginError as exc:
            raise MailboxConfigError(
                f"the mailbox refused the login of {s.imap_user} at {s.imap_host}; check "
                "IMAP_USER and the password (an app password where the provider needs one)"
            ) from exc


def _oauth2_token(command: str) -> str:
    """A fresh access token from the operator's token command (never logged)."""
    try:
        done = subprocess.run(
            shlex.split(command), capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise MailboxConfigError(f"IMAP_OAUTH2_TOKEN_COMMAND failed: {type(exc).__name__}") from exc
    token = done.stdout.strip()
    if not token:
        raise MailboxConfigError("IMAP_OAUTH2_TOKEN_COMMAND printed no token")
    return token


__all__ = ["CONNECTION_ERRORS", "HEADER_BYTES", "HeaderOnly", "Inbox", "MailboxConfigError"]
