"""`hotspot-onboard serve` as a real server process on a free port, for the browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx
from prefect.settings import PREFECT_API_URL

from hotspot.sandbox_process import free_port
from settings import settings

CLI = Path(sys.executable).with_name("hotspot-onboard")


class WebServer:
    """The web app in its own process, on this test's store, sandbox and Prefect API."""

    def __init__(self, *, hotspot_url: str, startup_timeout: float = 60.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {
            **os.environ,
            "OFFSTREET_DATABASE_URL": settings.resolved_database_url,
            "OFFSTREET_DATA_DIR": str(settings.data_dir),
            "HOTSPOT_API_URL": hotspot_url,
            "PREFECT_API_URL": PREFECT_API_URL.value(),
            "VERIFY_FIRST_POLL_SECONDS": "0.2",
            "VERIFY_MAX_POLL_INTERVAL_SECONDS": "0.5",
            "HOTSPOT_BACKOFF_SECONDS": "0.05",
        }
        self._startup_timeout = startup_timeout
        self._log = tempfile.TemporaryFile()
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> WebServer:
        self._process = subprocess.Popen(
            [CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the web server exited at start:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the web server did not answer in time:\n{self.log()}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def memory_mib(self) -> tuple[int, int]:
        """The server's resident memory now and at its peak (VmRSS, VmHWM), in MiB."""
        assert self._process is not None
        status = Path(f"/proc/{self._process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) >> 10, int(fields["VmHWM"].split()[0]) >> 10

    def log(self) -> str:
        """What the server printed, for failure messages."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")
