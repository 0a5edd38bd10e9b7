"""Signed links on their own, and the two commands."""

from __future__ import annotations

import stat
import time

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from cli.main import app
from settings import settings
from web.commands import RedactLinks
from web.links import ExpiredLink, ForgedLink, make_token, verify_token

runner = CliRunner()


def test_a_link_verifies_until_it_expires(store) -> None:
    now = time.time()
    token = make_token(7, days=1, now=now)
    link = verify_token(token, now=now + 86399)
    assert (link.company_id, link.expires_at) == (7, int(now + 86400))
    with pytest.raises(ExpiredLink):
        verify_token(token, now=now + 86400)


def test_the_lifetime_defaults_to_the_setting(store, monkeypatch) -> None:
    monkeypatch.setattr(settings, "form_link_days", 2)
    now = time.time()
    assert verify_token(make_token(1, now=now), now=now).expires_at == int(now + 2 * 86400)


def test_the_key_is_generated_once_into_the_data_dir(store) -> None:
    token = make_token(1)
    key_file = settings.data_dir / "form-link.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 43
    assert verify_token(token).company_id == 1
    key_file.write_text("rotated")
    with pytest.raises(ForgedLink):
        verify_token(token)


def test_form_link_secret_is_used_when_set(store, monkeypatch) -> None:
    monkeypatch.setattr(settings, "form_link_secret", SecretStr("one"))
    token = make_token(1)
    monkeypatch.setattr(settings, "form_link_secret", SecretStr("two"))
    with pytest.raises(ForgedLink):
        verify_token(token)
    assert not (settings.data_dir / "form-link.key").exists()


def test_form_link_prints_a_working_link(store) -> None:
    result = runner.invoke(
        app, ["form-link", "Acme Parking", "--days", "3", "--base-url", "https://x.example/"]
    )
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("https://x.example/f/")
    link = verify_token(url.rsplit("/", 1)[1])
    assert link.expires_at == pytest.approx(time.time() + 3 * 86400, abs=5)

    unknown = runner.invoke(app, ["form-link", "Nobody Inc"])
    assert unknown.exit_code == 1
    assert "no company named 'Nobody Inc'" in unknown.output


def test_short_staff_keys_are_refused(monkeypatch) -> None:
    monkeypatch.setenv("OFFSTREET_API_KEYS", "short")
    with pytest.raises(ValueError, match="at least 16 characters"):
        type(settings)()


def test_access_logs_never_show_a_link() -> None:
    import logging

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s" %d',
        ("127.0.0.1", "GET", "/f/1.2.abc/requests/3?sent=1", 200),
        None,
    )
    RedactLinks().filter(record)
    assert record.getMessage() == '127.0.0.1 - "GET /f/<link>/requests/3?sent=1" 200'
