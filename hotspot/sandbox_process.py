"""The HotSpot sandbox as a real subprocess, for the demo, the tests and the benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from settings import PROJECT_DIR, SANDBOX_PARTNER_KEY

Knob = float | tuple[float, float]


def _expanded(knobs: dict[str, Knob]) -> dict[str, float]:
    """`delay=2` or `delay=(1, 5)` (likewise `latency`) as the sandbox's *_min/*_max knobs."""
    expanded: dict[str, float] = {}
    for name, value in knobs.items():
        if isinstance(value, tuple):
            expanded |= {f"{name}_min": value[0], f"{name}_max": value[1]}
        elif name in ("delay", "latency"):
            expanded |= {f"{name}_min": value, f"{name}_max": value}
        else:
            expanded[name] = value
    return expanded


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SandboxProcess:
    """`python -m cli.sandbox` on a free localhost port, driven through its control API."""

    def __init__(
        self,
        *,
        partner_key: str = SANDBOX_PARTNER_KEY,
        catalogue: Path | None = None,
        port: int | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.partner_key = partner_key
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._catalogue = catalogue
        self._startup_timeout = startup_timeout
        self._log = tempfile.TemporaryFile()
        self._process: subprocess.Popen[bytes] | None = None
        self._control = httpx.Client(base_url=f"{self.url}/_sandbox", timeout=10.0)

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> SandboxProcess:
        """Start the server and return once it answers its health check."""
        command = [sys.executable, "-m", "cli.sandbox", "--host", "127.0.0.1"]
        command += ["--port", str(self.port)]
        if self._catalogue is not None:
            command += ["--catalogue", str(self._catalogue)]
        # The key travels in the environment, not on the command line other users can read.
        env = {**os.environ, "HOTSPOT_PARTNER_KEY": self.partner_key}
        self._process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self) -> None:
        """Poll the health check; fail with the server's output if it exits or never answers."""
        assert self._process is not None
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                if self._control.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        output = self.output()
        self.stop()
        raise RuntimeError(f"the sandbox did not start within {self._startup_timeout}s:\n{output}")

    def output(self) -> str:
        """Everything the server printed so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def configure(self, **knobs: Knob) -> dict[str, Any]:
        """Change knobs at runtime: rate_limit=5, error_rate=0.3, delay=2 or delay=(1, 5), ..."""
        return self._post("/config", _expanded(knobs))

    def reset(self, **knobs: Knob) -> dict[str, Any]:
        """Forget permits and counters; knobs back to zero, except those given."""
        return self._post("/reset", _expanded(knobs))

    def state(self) -> dict[str, Any]:
        """Counters, knobs and every permit the sandbox holds."""
        response = self._control.get("/state")
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._control.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and release its resources."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        self._control.close()
        self._log.close()
