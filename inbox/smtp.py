"""Sending replies over SMTP, with TLS verified against the system trust store."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from settings import Settings


def send(message: EmailMessage, settings: Settings, *, timeout: float = 30.0) -> None:
    """Deliver one message to the configured SMTP server."""
    context = ssl.create_default_context()
    if settings.smtp_security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=context)
        if settings.smtp_user and settings.smtp_password is not None:
            client.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        client.send_message(message)
