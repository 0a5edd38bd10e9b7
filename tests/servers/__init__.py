"""Real servers for tests: a private Dovecot (IMAP over TLS) and a capturing SMTP server.

Fixtures for them are in tests/servers/fixtures.py.
"""

from __future__ import annotations

from tests.servers.dovecot import DovecotError, DovecotServer
from tests.servers.smtp import CapturedMessage, SmtpCapture

__all__ = ["CapturedMessage", "DovecotError", "DovecotServer", "SmtpCapture"]
