"""The HotSpot sandbox as a real subprocess, for `up`, the demo, the tests and the benchmarks."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx

from hotspot_sandbox import SANDBOX_PARTNER_KEY
from stack.process import LOCALHOST, Service, free_port

Knob = float | str | tuple[float, float]


def _expanded(knobs: dict[str, Knob]) -> dict[str, float | str]:
    """`delay=2` or `delay=(1, 5)` (likewise `latency`) as the sandbox's *_min/*_max knobs."""
    expanded: dict[str, float | str] = {}
    for name, value in knobs.items():
        if isinstance(value, tuple):
            expanded |= {f"{name}_min": value[0], f"{name}_max": value[1]}
        elif name in ("delay", "latency") and not isinstance(value, str):
            expanded |= {f"{name}_min": value, f"{name}_max": value}
        else:
            expanded[name] = value
    return expanded


class SandboxProcess(Service):
    """`python -m hotspot_sandbox` on a localhost port, driven through its control API."""

    def __init__(
        self,
        *,
        partner_key: str = SANDBOX_PARTNER_KEY,
        catalogue: Path | None = None,
        port: int | None = None,
        log: Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.partner_key = partner_key
        self.port = port or free_port()
        self.url = f"http://{LOCALHOST}:{self.port}"
        command = [sys.executable, "-m", "hotspot_sandbox", "--host", LOCALHOST]
        command += ["--port", str(self.port)]
        if catalogue is not None:
            command += ["--catalogue", str(catalogue)]
        super().__init__(
            "the HotSpot sandbox",
            command,
            # The key travels in the environment, not on the command line other users can read.
            env={**os.environ, "HOTSPOT_PARTNER_KEY": partner_key},
            log=log,
            health=f"{self.url}/_sandbox/health",
            startup_timeout=startup_timeout,
            stop_timeout=5.0,
        )
        self._control = httpx.Client(base_url=f"{self.url}/_sandbox", timeout=10.0)

    def configure(self, **knobs: Knob) -> dict[str, Any]:
        """Change knobs at runtime: rate_limit=5, rate_limiter="fixed", rate_headers=True,
        error_rate=0.3, delay=2 or delay=(1, 5), ..."""
        return self._post("/config", _expanded(knobs))

    def reset(self, **knobs: Knob) -> dict[str, Any]:
        """Forget permits and counters; knobs back to zero, except those given."""
        return self._post("/reset", _expanded(knobs))

    def change_spot(self, spot_id: str, **fields: bool | str) -> dict[str, Any]:
        """Change a spot until the next reset: active=False, operator="...", or
        shows_permits=False (enforcement stops seeing permits there)."""
        return self._post(f"/spots/{spot_id}", dict(fields))

    def revoke_token(self, token: str) -> dict[str, Any]:
        """Every operator stops accepting this company token until the next reset."""
        return self._post("/tokens/revoke", {"token": token})

    def state(self) -> dict[str, Any]:
        """Counters, knobs and every permit the sandbox holds."""
        response = self._control.get("/state")
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._control.post(path, json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def stop(self) -> None:
        """Stop the server and release its control client."""
        super().stop()
        self._control.close()
