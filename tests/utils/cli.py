"""`hotspot-onboard` as a real process, the way ops run it, against the test's store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prefect.settings import PREFECT_API_URL

from settings import settings

CLI = Path(sys.executable).with_name("hotspot-onboard")


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


def start_cli(*args: str, hotspot_url: str, log: Path, **extra_env: str) -> subprocess.Popen:
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
