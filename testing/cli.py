"""`hotspot-onboard` as a person runs it: the installed command and a clean environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from settings import PROJECT_DIR

CLI = str(Path(sys.executable).with_name("hotspot-onboard"))
SAMPLE = str(PROJECT_DIR / "demo/request.eml")  # Lot B needs Acme's token: waits on ops (4)
SEED = str(PROJECT_DIR / "demo/companies.json")
# Settings of ours and Prefect's that this machine's environment may carry.
OURS = ("PREFECT_", "OFFSTREET_", "HOTSPOT_", "IMAP_", "SMTP_", "OPS_", "ONBOARDING_", "VERIFY_")


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
