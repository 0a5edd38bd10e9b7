"""`hotspot-onboard serve` as a real server process on a free port, for the browser tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from prefect.settings import PREFECT_API_URL

from settings import settings
from stack.process import Service, free_port

CLI = Path(sys.executable).with_name("hotspot-onboard")


class WebServer(Service):
    """The web app in its own process, on this test's store, sandbox and Prefect API."""

    def __init__(self, *, hotspot_url: str, startup_timeout: float = 60.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "OFFSTREET_DATABASE_URL": settings.resolved_database_url,
            "OFFSTREET_DATA_DIR": str(settings.data_dir),
            "HOTSPOT_API_URL": hotspot_url,
            "PREFECT_API_URL": PREFECT_API_URL.value(),
            "VERIFY_FIRST_POLL_SECONDS": "0.2",
            "VERIFY_MAX_POLL_INTERVAL_SECONDS": "0.5",
            "HOTSPOT_BACKOFF_SECONDS": "0.05",
        }
        command = [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        super().__init__(
            "the web server",
            command,
            env=env,
            health=f"{self.url}/healthz",
            startup_timeout=startup_timeout,
        )

    def memory_mib(self) -> tuple[int, int]:
        """The server's resident memory now and at its peak (VmRSS, VmHWM), in MiB."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) >> 10, int(fields["VmHWM"].split()[0]) >> 10
