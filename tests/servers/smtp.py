"""A real SMTP server on 127.0.0.1 that keeps every message it receives, for asserting replies.

aiosmtpd speaks the protocol as a mail relay would (EHLO, AUTH, MAIL FROM, RCPT TO, DATA) in a
thread of its own, so smtplib, or the app, talks to it like to any submission server.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from stack.process import free_port


@dataclass(frozen=True)
class CapturedMessage:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    # Who logged in with AUTH before sending, None when the client sent without logging in.
    login: str | None


class _Handler:
    """aiosmtpd's hooks: check credentials, then record (or refuse) each message."""

    def __init__(self, capture: SmtpCapture) -> None:
        self._capture = capture

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        expected = self._capture.credentials
        ok = (
            expected is not None
            and isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == expected
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        # Checked here rather than with aiosmtpd's auth_required, which warns on every
        # connection that AUTH without TLS is unsafe (true, and irrelevant on loopback).
        if self._capture.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self._capture._received(session, envelope)


class SmtpCapture:
    """Plain SMTP (no TLS) on `.host`:`.port`; received mail is in `.messages`.

    With `credentials=(user, password)` it offers AUTH PLAIN and LOGIN and accepts that pair
    only (wrong ones get 535); sending without logging in is still accepted unless
    `require_auth=True` (then 530). Without credentials no AUTH is offered, as on a relay that
    trusts its network.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        credentials: tuple[str, str] | None = None,
        require_auth: bool = False,
    ) -> None:
        if require_auth and credentials is None:
            raise ValueError("require_auth needs credentials")
        self.credentials = credentials
        self.require_auth = require_auth
        self.port = free_port()
        self._messages: list[CapturedMessage] = []
        self._failures: list[str] = []
        self._changed = threading.Condition()
        handler = _Handler(self)
        self._controller = Controller(
            handler,
            hostname=self.host,
            port=self.port,
            # Offer AUTH over plain SMTP only when there is something to check it against.
            auth_require_tls=credentials is None,
            authenticator=handler.authenticate if credentials else None,
        )

    def __enter__(self) -> SmtpCapture:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> SmtpCapture:
        """Listen; returns once the server answers."""
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[CapturedMessage]:
        """What was received so far, oldest first (a copy: safe to iterate while mail arrives)."""
        with self._changed:
            return list(self._messages)

    def clear(self) -> None:
        """Forget what was received (and any failures still queued by fail_next)."""
        with self._changed:
            self._messages.clear()
            self._failures.clear()

    def fail_next(self, count: int = 1, *, reply: str = "451 4.3.0 Try again later") -> None:
        """Refuse the next `count` messages at DATA with `reply` (4xx: retry, 5xx: give up)."""
        with self._changed:
            self._failures.extend([reply] * count)

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[CapturedMessage]:
        """Block until at least `count` messages arrived; all of them, or AssertionError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} message(s) within {timeout} s, got {len(self._messages)}"
                    )
                self._changed.wait(remaining)
            return list(self._messages)

    def _received(self, session: Session, envelope: Envelope) -> str:
        """Record one message (called in the server's thread); returns the SMTP reply."""
        with self._changed:
            if self._failures:
                return self._failures.pop(0)
            raw = cast(bytes, envelope.original_content or envelope.content)
            auth = session.auth_data
            self._messages.append(
                CapturedMessage(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    raw=raw,
                    message=BytesParser(policy=policy.default).parsebytes(raw),
                    login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
                )
            )
            self._changed.notify_all()
        return "250 OK"
