"""Child processes of the stack, each in a session of its own, stopped with its whole tree.

A process worker starts flow runs as its own children (and Prefect's workspace supervisor
puts them in a session of their own), so stopping only the process we started would leave
them behind: `Service.stop` signals every process below it too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Self

import httpx

from settings import PROJECT_DIR
from store.files import private_file

LOCALHOST = "127.0.0.1"


class StackError(RuntimeError):
    """A part of the stack could not start or be reached; the message says what to do."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        port: int = probe.getsockname()[1]
        return port


def check_port_free(port: int, *, hint: str) -> None:
    """Refuse at once, in one line, a port something already listens on."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOCALHOST, port))
        except OSError:
            raise StackError(f"port {port} on {LOCALHOST} is in use: {hint}") from None


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, grandchildren, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    fields = _stat(pid)
    return bool(fields) and fields[0] != "Z"


def started_at(pid: int) -> int | None:
    """When the process started (clock ticks since boot): with the pid, who it is, since pids
    are reused; None when there is no such process."""
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process tree so far: each live process's own, plus
    what its exited and reaped children used."""
    ticks = sum(
        sum(int(value) for value in _stat(member)[11:15])  # utime stime cutime cstime
        for member in (pid, *descendants(pid))
    )
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (the state is the first); [] if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return []


def stop_tree(pid: int, *, timeout: float, sig: int = signal.SIGTERM) -> None:
    """Signal `pid`, its process group and every process below it; SIGKILL what remains."""
    tree = [pid, *descendants(pid)]
    _signal_all(tree, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in tree):
        time.sleep(0.1)
    _signal_all([*tree, *descendants(pid)], signal.SIGKILL)


def _signal_all(pids: Sequence[int], sig: int, *, group_only: bool = False) -> None:
    """Each pid's process group (a session leader's whole group), then the process itself."""
    for pid in pids:
        for send in (os.killpg,) if group_only else (os.killpg, os.kill):
            try:
                send(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass


def wait_until(
    ready: Callable[[], bool], *, timeout: float, process: subprocess.Popen[bytes] | None
) -> bool:
    """Poll `ready` until it holds; False if `process` exited first or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return True
        if process is not None and process.poll() is not None:
            return False
        time.sleep(0.2)
    return False


def answers(url: str) -> bool:
    """Whether GET `url` answers 200 right now."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class Service:
    """A long-running child process in a new session, its output in a log file.

    `health` is a URL that answers 200 once the service is ready; `start` waits for it (up
    to `startup_timeout`) and fails with the log's last lines if the process exits first.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: dict[str, str],
        log: Path | None = None,
        health: str | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 15.0,
        cwd: Path = PROJECT_DIR,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = env
        self.health = health
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.cwd = cwd
        self.log_path = log
        self._log: IO[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was not started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> Self:
        """Start the process; with `health`, return once it answers."""
        if self.log_path is None:
            self._log = tempfile.TemporaryFile()
        else:
            self._log = private_file(self.log_path).open("ab")  # logs may quote requests
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.health is not None:
            self.wait_until_healthy()
        return self

    def wait_until_healthy(self) -> None:
        """Wait for the health URL; stop the process and raise StackError if it never answers."""
        assert self.health is not None
        health = self.health
        if wait_until(lambda: answers(health), timeout=self.startup_timeout, process=self.process):
            return
        reason = (
            f"exited with code {self.process.returncode}"
            if self.process is not None and self.process.poll() is not None
            else f"did not answer at {health} within {self.startup_timeout:.0f} s"
        )
        tail = self.output().strip().splitlines()[-1:]
        self.stop()
        where = f" (log: {self.log_path})" if self.log_path else ""
        raise StackError(f"{self.name} {reason}{where}: {' '.join(tail) or 'no output'}")

    def output(self) -> str:
        """Everything the process printed so far."""
        if self._log is None:
            return ""
        self._log.flush()
        if self.log_path is not None:
            return self.log_path.read_text(errors="replace")
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        """Stop the process and everything it started (SIGTERM, SIGKILL after the timeout)."""
        if self.process is not None:
            if self.process.poll() is None:
                stop_tree(self.process.pid, timeout=self.stop_timeout)
            else:  # it is gone; what it started may not be
                _signal_all([self.process.pid], signal.SIGKILL, group_only=True)
            self.process.wait()
        if self._log is not None and self.log_path is not None:
            self._log.close()
