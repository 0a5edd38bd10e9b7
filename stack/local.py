"""One local Prefect server per data dir, shared by every command that needs Prefect.

Without PREFECT_API_URL, Prefect would start an ephemeral server inside each command: 10 s
or more before the first step, a hard 20 s start-up limit a fresh database on two busy cores
does not meet, two commands at once each migrating the same SQLite file, and a server left
behind by a killed command. Instead, the first command starts `prefect server start` for the
data dir under a small supervisor (`python -m stack.local`, detached from the command) and
later commands reuse it. Its state is in `<data dir>/prefect/`:

- `server.json`: where it answers, its supervisor's pid, and who owns it (`cli`, or `up`
  when `make up` runs its server for this data dir: commands use that one too);
- `server.lock`: held while a command looks for the server or starts one, so two commands
  at once start one server;
- `server.in-use`: every command holds a shared lock on it while it runs; the supervisor
  stops the server once nobody has held it for EMBEDDED_SERVER_IDLE_SECONDS. A killed
  command's lock goes with it.

`hotspot-onboard server stop` stops it at once; `server status` says where it is.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Literal

from settings import settings
from stack.prefect import SERVER_STARTUP_TIMEOUT, PrefectServer
from stack.process import (
    StackError,
    alive,
    answers,
    free_port,
    started_at,
    stop_tree,
    wait_until,
)

CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class ServerRecord:
    """A running local server: its API, the pid that answers for it, and its owner."""

    api_url: str
    pid: int
    owner: Literal["cli", "up"]
    started: int | None = None  # the pid's start time: a reused pid is not this server

    @classmethod
    def of(cls, api_url: str, pid: int, owner: Literal["cli", "up"]) -> ServerRecord:
        return cls(api_url, pid, owner, started_at(pid))


class LocalServer:
    """The files that describe the local Prefect server of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.home = data_dir / "prefect"  # PREFECT_HOME of the server: its SQLite database
        self.record_file = self.home / "server.json"
        self.lock_file = self.home / "server.lock"
        self.in_use_file = self.home / "server.in-use"
        self.log = self.home / "server.log"

    def read(self) -> ServerRecord | None:
        """The record of a server whose process is alive; None otherwise."""
        try:
            record = ServerRecord(**json.loads(self.record_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        running = alive(record.pid) and started_at(record.pid) == record.started
        return record if running else None

    def write(self, record: ServerRecord) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        temporary = self.record_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(record)))
        temporary.replace(self.record_file)

    def forget(self, pid: int) -> None:
        """Remove the record if it is still this process's."""
        try:
            if json.loads(self.record_file.read_text())["pid"] == pid:
                self.record_file.unlink()
        except (OSError, ValueError, KeyError):
            pass

    @contextmanager
    def locked(
        self,
        path: Path,
        operation: int = fcntl.LOCK_EX,
        *,
        announce: Callable[[str], None] | None = None,
    ) -> Iterator[IO[str]]:
        """`path` locked (flock) for the block, the lock dying with the process; `announce`
        says so when another process holds it (`make up` starting its server)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            try:
                fcntl.flock(handle, operation | fcntl.LOCK_NB)
            except BlockingIOError:
                if announce is not None:
                    announce(f"Waiting for the local Prefect server being started ({self.home})…")
                fcntl.flock(handle, operation)
            yield handle

    def stop(self, record: ServerRecord) -> None:
        """Stop a server the CLI started (its supervisor and everything below it)."""
        stop_tree(record.pid, timeout=30)
        self.forget(record.pid)


@contextmanager
def local_server(data_dir: Path, *, announce: Callable[[str], None]) -> Iterator[str]:
    """The API URL of the data dir's local server for the block, started when none runs."""
    local = LocalServer(data_dir)
    with local.locked(local.in_use_file, fcntl.LOCK_SH):
        os.utime(local.in_use_file)
        try:
            with local.locked(local.lock_file, announce=announce):
                record = local.read() or _start(local)
            if not answers(_health(record)):
                announce(
                    f"Starting the local Prefect server ({local.home}); its first start sets up "
                    "its database, a minute or two on a busy machine…"
                )
                ready = wait_until(
                    lambda: answers(_health(record)) or not alive(record.pid),
                    timeout=SERVER_STARTUP_TIMEOUT,
                    process=None,
                )
                if not ready or not alive(record.pid):
                    raise StackError(
                        f"the local Prefect server did not start (pid {record.pid}); see "
                        f"{local.log}, and `hotspot-onboard server stop`"
                    )
            yield record.api_url
        finally:
            os.utime(local.in_use_file)


def _health(record: ServerRecord) -> str:
    return f"{record.api_url}/health"


def _start(local: LocalServer) -> ServerRecord:
    """Start a supervised server, detached from this command; its record (not yet healthy)."""
    port = free_port()
    local.home.mkdir(parents=True, exist_ok=True)
    with local.log.open("ab") as log:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "stack.local", str(local.home.parent), str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    record = ServerRecord.of(f"http://127.0.0.1:{port}/api", supervisor.pid, "cli")
    local.write(record)
    return record


def supervise(data_dir: Path, port: int) -> int:
    """Run the server until SIGTERM, until it dies, or until no command used it for a while."""
    local = LocalServer(data_dir)
    signal.signal(signal.SIGTERM, _interrupt)
    server = PrefectServer(home=local.home, port=port, log=local.log)
    try:
        server.start()
        while server.running:
            time.sleep(CHECK_SECONDS)
            with _unused(local) as unused:
                if unused:  # commands wait for this lock: stop before any can use the server
                    print(f"unused for {settings.embedded_server_idle_seconds:.0f} s: stopping")
                    server.stop()
                    local.forget(os.getpid())
    except KeyboardInterrupt:
        pass
    except StackError as exc:
        print(exc)
        return 1
    finally:
        server.stop()
        local.forget(os.getpid())
    return 0


@contextmanager
def _unused(local: LocalServer) -> Iterator[bool]:
    """Whether nobody holds the in-use lock nor did for the idle time; if so, held meanwhile."""
    since = time.time() - local.in_use_file.stat().st_mtime
    if since < settings.embedded_server_idle_seconds:
        yield False
        return
    with local.in_use_file.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(supervise(Path(sys.argv[1]), int(sys.argv[2])))
