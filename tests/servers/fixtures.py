"""pytest fixtures for the real IMAP and SMTP servers.

Register them once in tests/conftest.py with `pytest_plugins = ["tests.servers.fixtures"]`
(a direct `from tests.servers.fixtures import dovecot, smtp_capture` works too, but then ruff
flags every test argument of that name as a redefinition, F811).

Both are function-scoped, a fresh server per test: Dovecot starts in about 30 ms (the first
login adds 40) and is gone in 10, and no test sees another's mail, sessions or restarts.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpCapture

SMTP_USER = "mailer@offstreet.example"


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A fresh private Dovecot: IMAPS on `.host`:`.port`, trusting `.ca_file`, one user.

    The mailbox holds an empty INBOX; the client creates the rest (or `.create_folder`).
    """
    with DovecotServer() as server:
        yield server
        # pytest shows teardown output only for a failed test: there, Dovecot's side of it.
        print("--- Dovecot log (tail) ---", *server.log().splitlines()[-40:], sep="\n")


@pytest.fixture
def smtp_capture() -> Iterator[SmtpCapture]:
    """A fresh capturing SMTP server; it accepts `.credentials` or no login at all."""
    with SmtpCapture(credentials=(SMTP_USER, secrets.token_urlsafe(12))) as server:
        yield server
