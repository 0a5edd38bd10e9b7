"""Settings: production refuses every unsafe value in one line naming it, and secrets never
show in a refusal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from cli.entry import settings_refusals
from settings import Settings

CLI = Path(sys.executable).with_name("hotspot-onboard")
PARTNER_KEY = "partner-key-that-must-never-print-0123"
# A production configuration with nothing unsafe in it.
SAFE_PRODUCTION = {
    "OFFSTREET_ENV": "production",
    "HOTSPOT_API_URL": "https://partner-api.hotspot.example",
    "HOTSPOT_PARTNER_KEY": PARTNER_KEY,
    "OFFSTREET_SECRET_KEY": Fernet.generate_key().decode(),
    "FORM_LINK_SECRET": "form-link-secret-0123456789abcdef",
    "WEB_BASE_URL": "https://onboard.offstreet.example",
    "FORM_LINK_DAYS": "90",
    "MAIL_TRUSTED_AUTHSERV_IDS": "mx.offstreet.example",
    "IMAP_HOST": "imap.example.com",
    "IMAP_SECURITY": "tls",
    "SMTP_HOST": "smtp.example.com",
    "SMTP_SECURITY": "starttls",
}
# Each unsafe change, and the variable its refusal must name (None: the variable is unset).
UNSAFE = {
    "http HotSpot": ({"HOTSPOT_API_URL": "http://partner-api.hotspot.example"}, "HOTSPOT_API_URL"),
    "sandbox key": ({"HOTSPOT_PARTNER_KEY": "sandbox-partner-key"}, "HOTSPOT_PARTNER_KEY"),
    "IMAP in clear": ({"IMAP_SECURITY": "none"}, "IMAP_SECURITY"),
    "SMTP in clear": ({"SMTP_SECURITY": "none"}, "SMTP_SECURITY"),
    "generated secret key": ({"OFFSTREET_SECRET_KEY": None}, "OFFSTREET_SECRET_KEY"),
    "generated link key": ({"FORM_LINK_SECRET": None}, "FORM_LINK_SECRET"),
    "http form": ({"WEB_BASE_URL": "http://onboard.offstreet.example"}, "WEB_BASE_URL"),
    "default form address": ({"WEB_BASE_URL": None}, "WEB_BASE_URL"),
    "long-lived links": ({"FORM_LINK_DAYS": "36500"}, "FORM_LINK_DAYS"),
    "no trusted MTA": ({"MAIL_TRUSTED_AUTHSERV_IDS": None}, "MAIL_TRUSTED_AUTHSERV_IDS"),
}


def environment(changes: dict[str, str | None]) -> dict[str, str]:
    """The safe production variables with `changes` applied (None removes one)."""
    merged: dict[str, str | None] = SAFE_PRODUCTION | changes
    return {name: value for name, value in merged.items() if value is not None}


def load(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> Settings:
    for name in {*SAFE_PRODUCTION, *variables}:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_a_safe_production_configuration_starts(monkeypatch) -> None:
    assert load(monkeypatch, environment({})).environment == "production"
    # Mail in clear is fine to a server on this machine.
    local = {"IMAP_HOST": "127.0.0.1", "IMAP_SECURITY": "none", "SMTP_HOST": "localhost"}
    assert load(monkeypatch, environment(local | {"SMTP_SECURITY": "none"}))


@pytest.mark.parametrize(("changes", "variable"), UNSAFE.values(), ids=UNSAFE.keys())
def test_production_refuses_each_unsafe_value_in_one_line(
    monkeypatch, changes: dict[str, str | None], variable: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        load(monkeypatch, environment(changes))

    [line] = settings_refusals(refused.value)
    assert variable in line and "set " in line, line
    assert PARTNER_KEY not in str(refused.value)


def test_development_accepts_the_embedded_defaults(monkeypatch) -> None:
    unsafe = {"OFFSTREET_ENV": "development", "HOTSPOT_API_URL": "http://127.0.0.1:8765"}
    settings = load(monkeypatch, unsafe | {"HOTSPOT_PARTNER_KEY": "sandbox-partner-key"})
    assert settings.environment == "development"


def test_link_lifetime_is_capped_everywhere(monkeypatch) -> None:
    with pytest.raises(ValidationError) as refused:
        load(monkeypatch, {"FORM_LINK_DAYS": "91"})
    assert settings_refusals(refused.value) == [
        "FORM_LINK_DAYS=91 is over 90 days: set it to 90 or less (a leaked link opens the form "
        "until it expires)"
    ]


def test_refused_values_are_never_echoed(monkeypatch) -> None:
    for variables in (
        {"OFFSTREET_API_KEYS": "short-secret"},
        {"HOTSPOT_TIMEOUT_SECONDS": "short-secret"},
        {"FORM_LINK_DAYS": "365", "FORM_LINK_SECRET": "short-secret"},
    ):
        with pytest.raises(ValidationError) as refused:
            load(monkeypatch, variables)
        assert "short-secret" not in str(refused.value) + "".join(settings_refusals(refused.value))


def test_the_default_data_dir_is_the_working_directory(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OFFSTREET_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings(_env_file=None).data_dir == tmp_path / ".data"  # type: ignore[call-arg]


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`hotspot-onboard` as a real process, with only these settings (and no `.env`)."""
    base = {
        name: value
        for name, value in os.environ.items()
        if name not in SAFE_PRODUCTION and not name.startswith("OFFSTREET_")
    }
    return subprocess.run(
        [str(CLI), *args], env=base | env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(("changes", "variable"), UNSAFE.values(), ids=UNSAFE.keys())
def test_the_command_refuses_to_start_with_one_clean_line(
    tmp_path: Path, changes: dict[str, str | None], variable: str
) -> None:
    result = run_cli(["status"], environment(changes), tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("hotspot-onboard: ") and variable in line, result.stderr
    assert PARTNER_KEY not in result.stderr
    assert not (tmp_path / ".data").exists(), "nothing is created before the settings pass"


def test_the_command_starts_in_safe_production(tmp_path: Path) -> None:
    result = run_cli(["status", "--json"], environment({}), tmp_path)
    assert result.returncode == 0, result.stderr
