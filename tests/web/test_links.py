"""Signed links on their own, and the two commands."""

from __future__ import annotations

import stat
import time

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from cli.main import app
from settings import settings
from trust.links import (
    ExpiredLink,
    ForgedLink,
    RevokedLink,
    issue_link,
    make_token,
    revoke_link,
    verify_token,
)
from web.commands import RedactLinks

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
    url = result.stdout.strip()  # the link alone; its id (to revoke it) is on stderr
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


def test_one_link_is_revoked_alone(store) -> None:
    first = runner.invoke(app, ["form-link", "Acme Parking", "--days", "1"])
    second = runner.invoke(app, ["form-link", "Acme Parking", "--days", "2"])
    first_token = first.stdout.strip().rsplit("/", 1)[1]
    second_token = second.stdout.strip().rsplit("/", 1)[1]
    assert "hotspot-onboard form-link 'Acme Parking' --revoke 1" in first.stderr

    revoked = runner.invoke(app, ["form-link", "Acme Parking", "--revoke", "1"])
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(RevokedLink):
        verify_token(first_token)
    assert verify_token(second_token).company_id == 1, "the other link still works"

    # A link given as sent (even one made before links were recorded) is revoked too.
    older = make_token(1, days=3)
    assert runner.invoke(app, ["form-link", "Acme Parking", "--revoke", older]).exit_code == 0
    with pytest.raises(RevokedLink):
        verify_token(older)
    as_sent = second.stdout.strip()
    assert runner.invoke(app, ["form-link", "Acme Parking", "--revoke", as_sent]).exit_code == 0
    with pytest.raises(RevokedLink):
        verify_token(second_token)


def test_only_the_company_own_links_can_be_revoked(store) -> None:
    runner.invoke(app, ["form-link", "Acme Parking"])  # link 1
    acme_link = make_token(1, days=1)
    for other in ("1", acme_link, "99", "not-a-link", "1.2.forged-signature"):
        result = runner.invoke(app, ["form-link", "Harbor Lots", "--revoke", other])
        assert result.exit_code == 1, other
        assert result.stderr.startswith(f"cannot revoke {other!r}"), result.stderr
    assert verify_token(acme_link).company_id == 1, "a link of another company is untouched"


def test_a_link_lives_at_most_90_days(store) -> None:
    for days in ("91", "0", "-1", "36500"):
        result = runner.invoke(app, ["form-link", "Acme Parking", "--days", days])
        assert result.exit_code == 2, days
        assert "Invalid value for --days: a form link lives more than 0 and at most 90 days" in (
            " ".join(result.stderr.replace("│", " ").split())
        ), result.stderr
    assert runner.invoke(app, ["form-link", "Acme Parking", "--days", "90"]).exit_code == 0


async def test_a_revoked_link_opens_nothing(web) -> None:  # type: ignore[no-untyped-def]
    issued = issue_link(1)
    path = issued.url.removeprefix(settings.form_base_url)
    assert (await web.client.get(path)).status_code == 200
    revoke_link(1, str(issued.link_id))
    for page in (path, f"{path}/check?spot_id=14283&location=Lot+A", f"{path}/requests/1"):
        response = await web.client.get(page)
        assert response.status_code == 403, page
        assert "withdrawn by Offstreet" in response.text and "new link" in response.text
