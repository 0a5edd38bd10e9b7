"""`hotspot-onboard` as a real process, the way ops run it: against the test's store and
Prefect API (`run_cli`, `start_cli`), or as on a fresh machine (`fresh_environment`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prefect.settings import PREFECT_API_URL

from parsers.form import form_json
from settings import PROJECT_DIR, settings

CLI = Path(sys.executable).with_name("hotspot-onboard")
SAMPLE = str(PROJECT_DIR / "demo/request.eml")  # Lot B needs Acme's token: waits on ops (4)
SEED = str(PROJECT_DIR / "demo/companies.json")
# Settings of ours and Prefect's that this machine's environment may carry.
OURS = ("PREFECT_", "OFFSTREET_", "HOTSPOT_", "IMAP_", "SMTP_", "OPS_", "ONBOARDING_", "VERIFY_")


def cli_env(hotspot_url: str, **extra: str) -> dict[str, str]:
    """The environment a command needs to share this test's store, HotSpot and Prefect API."""
    return {
        **os.environ,
        "OFFSTREET_DATABASE_URL": settings.resolved_database_url,
        "OFFSTREET_DATA_DIR": str(settings.data_dir),
        "HOTSPOT_API_URL": hotspot_url,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "VERIFY_FIRST_POLL_SECONDS": "0.2",
        **extra,
    }


def fresh_environment(tmp_path: Path, hotspot_url: str, **extra: str) -> dict[str, str]:
    """This machine's environment without any setting of ours or Prefect's: a fresh data dir,
    a cold PREFECT_HOME, no PREFECT_API_URL, HotSpot at `hotspot_url`, quick verification."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    return env | {
        "OFFSTREET_DATA_DIR": str(tmp_path / "data"),
        "PREFECT_HOME": str(tmp_path / "cold-prefect-home"),
        "HOTSPOT_API_URL": hotspot_url,
        "VERIFY_TIMEOUT_SECONDS": "3",
        "VERIFY_FIRST_POLL_SECONDS": "0.2",
        "HOTSPOT_TASK_RETRY_DELAYS": "[0.2, 0.2]",
        "HOTSPOT_BACKOFF_SECONDS": "0.05",
        **extra,
    }


def form_file(directory: Path, spots: dict[str, str], sender: str = "jane@acme.example") -> str:
    """A form request of Acme Parking (location → SpotID) as a file for `onboard`; its path."""
    path = directory / f"form-{'-'.join(spots.values())}.json"
    path.write_bytes(
        form_json(company="Acme Parking", contact_email=sender, spots=list(spots.items()))
    )
    return str(path)


def start_cli(*args: str, hotspot_url: str, log: Path, **extra_env: str) -> subprocess.Popen[bytes]:
    """Start `hotspot-onboard ARGS`, its output (stdout and stderr) going to `log`."""
    return subprocess.Popen(
        [CLI, *args],
        env=cli_env(hotspot_url, **extra_env),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def run_cli(*args: str, hotspot_url: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Run `hotspot-onboard ARGS` to its end; stdout and stderr kept apart."""
    return subprocess.run(
        [CLI, *args],
        env=cli_env(hotspot_url, **extra_env),
        capture_output=True,
        text=True,
        timeout=300,
    )
