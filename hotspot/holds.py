"""HotSpot's Retry-After holds in a small file, so every process of this machine honours them.

Embedded runs (`onboard`, the CLI, a local worker) are separate processes sharing a partner key
and a data dir. The file maps a hash of (base URL, partner key) — never the key itself — to the
wall-clock time until which HotSpot asked that key to wait; `fcntl.flock` keeps writers apart.
A file that cannot be read or written only costs the cross-process part: each process still
honours its own holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from pathlib import Path

logger = logging.getLogger(__name__)


class HoldFile:
    """'Blocked until' (Unix time) per hashed partner key, in a JSON file locked with flock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned = False

    def until(self, key: str) -> float:
        """Until when `key` is held (Unix time); 0 when the file says nothing about it."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return 0.0
        except OSError as exc:
            self._warn_once(f"cannot read the HotSpot hold file ({type(exc).__name__})")
            return 0.0
        with os.fdopen(fd, "rb") as file:
            fcntl.flock(file, fcntl.LOCK_SH)
            holds = _parsed(file.read())
        return holds.get(key, 0.0)

    def extend(self, key: str, until: float) -> None:
        """Hold `key` until `until` (Unix time), unless it is already held longer."""
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            self._warn_once(f"cannot write the HotSpot hold file ({type(exc).__name__})")
            return
        with os.fdopen(fd, "r+b") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            now = time.time()
            holds = {k: v for k, v in _parsed(file.read()).items() if v > now}
            if holds.get(key, 0.0) >= until:
                return
            holds[key] = until
            file.seek(0)
            file.truncate()
            file.write(json.dumps(holds).encode())
            file.flush()

    def _warn_once(self, message: str) -> None:
        """Log a problem with the file once: it is read before every request."""
        if not self._warned:
            self._warned = True
            logger.warning("%s; Retry-After holds stay within this process", message)


def _parsed(raw: bytes) -> dict[str, float]:
    """The holds in the file's bytes; none if it is empty or not ours (it is rewritten then)."""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        return {str(k): float(v) for k, v in json.loads(raw or b"{}").items()}
    return {}
