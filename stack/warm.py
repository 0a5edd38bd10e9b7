"""Warm starts: a worker's flow runs are forks of one process that has imported Prefect and
the flows once, instead of each a fresh `python -m prefect.engine` (about 2 s of imports per
run on two cores, most of what a short run costs).

- `python -m stack.warm serve -- prefect worker start ...` (how `stack.prefect.worker` starts
  every worker): imports prefect.yaml's flows, listens on a Unix socket of its own, starts the
  worker with SOCKET_ENV naming it, and lives as long as the worker does.
- `python -m stack.warm` (prefect.yaml's command for every run): the process the worker starts
  for a flow run. It asks the socket for a fork that runs `prefect.engine` with its standard
  streams, environment and directory, passes signals on, and exits as the fork did, so the
  worker sees what it would have seen. Without a socket (a plain `prefect worker start`), or
  when the environment differs from the one the flows were imported under, it becomes
  `python -m prefect.engine` itself: a cold start, never a stale one.

Nothing but the standard library is imported before `serve` runs: the command side of a run
must start in milliseconds.
"""

from __future__ import annotations

import functools
import json
import os
import selectors
import signal
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

SOCKET_ENV = "OFFSTREET_WARM_START_SOCKET"
_HEADER = struct.Struct("!I")
_MAX_REQUEST = 1 << 20  # an environment and a directory; far more than either
_STDIO = (0, 1, 2)
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _cold_start(reason: str | None) -> NoReturn:
    """Become `python -m prefect.engine` with this process's arguments."""
    if reason:
        print(f"warm start unavailable ({reason}); starting cold", file=sys.stderr, flush=True)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)  # the mask would outlive exec
    os.execv(sys.executable, [sys.executable, "-m", "prefect.engine", *sys.argv[1:]])


def launch() -> NoReturn:
    """The flow run's process as the worker sees it: a fork of the warm starter, or cold."""
    path = os.environ.get(SOCKET_ENV)
    if not path:
        _cold_start(None)
    # A stop asked for before the fork is known waits for it, so it reaches the run.
    signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        request = json.dumps(
            {"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}
        ).encode()
        socket.send_fds(conn, [_HEADER.pack(len(request))], list(_STDIO))
        conn.sendall(request)
        replies = conn.makefile("r", encoding="utf-8")
        verb, _, value = replies.readline().strip().partition(" ")
    except OSError as exc:
        conn.close()
        _cold_start(f"{path}: {exc.strerror or exc}")
    if verb != "pid":
        conn.close()
        _cold_start(value or "the warm starter closed the connection")
    pid = int(value)

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in _FORWARDED:
        signal.signal(signum, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
    line = replies.readline().strip()
    if not line.startswith("exit "):  # the warm starter went away while the run went on
        while _exists(pid):
            time.sleep(0.5)
        print(f"warm starter gone; flow run process {pid} ended, status unknown", file=sys.stderr)
        sys.exit(1)
    exit_as(int(line.removeprefix("exit ")))


def exit_as(code: int) -> NoReturn:
    """Exit with the code a child exited with; killed by a signal (negative), die of it."""
    if code < 0:
        if -code not in (signal.SIGKILL, signal.SIGSTOP):  # these have no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- the warm starter -------------------------------------------------------------------------


def preload() -> list[str]:
    """Import the engine and every flow prefect.yaml deploys, as a run would; their modules."""
    import importlib

    import yaml  # type: ignore[import-untyped]

    from settings import PROJECT_DIR

    deployments = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text())["deployments"]
    modules = ["prefect.engine", "prefect.flow_engine"]
    modules += sorted({d["entrypoint"].partition(":")[0] for d in deployments})
    for module in modules:
        importlib.import_module(module)
    return modules


def differences(environment: dict[str, str], ours: dict[str, str]) -> list[str]:
    """The variables a run's environment has other than the warm starter's, but Prefect's:
    settings read at import (ours, and any library's) would be stale in a fork."""
    keys = (environment.keys() | ours.keys()) - {SOCKET_ENV}
    return sorted(
        key
        for key in keys
        if not key.startswith("PREFECT_") and environment.get(key) != ours.get(key)
    )


@dataclass
class _Run:
    """A forked flow run and the connection of the process that asked for it."""

    pid: int
    conn: socket.socket | None
    pidfd: int


@dataclass
class _Fork:
    """In the forked process: what to become."""

    argv: list[str]


class WarmStarter:
    """The socket, the worker it serves, and the forks it made (one thread, one selector)."""

    def __init__(self, path: Path, worker: list[str]) -> None:
        self.path = path
        self.worker_command = worker
        self.environment = dict(os.environ)
        self.selector = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.runs: dict[int, _Run] = {}  # by pidfd
        self.worker_pid = 0
        self.worker_pidfd = -1

    def serve(self) -> _Fork | int:
        """Until the worker exits (its exit code), or, in a fork, the run to become."""
        self.listener.bind(str(self.path))  # in a directory only this user may enter
        self.listener.listen(64)
        self.selector.register(self.listener, selectors.EVENT_READ, self._accept)
        # A stop asked for while the worker starts waits until there is a worker to pass it to.
        signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)
        try:
            self.worker_pid = self._start_worker()
            self.worker_pidfd = os.pidfd_open(self.worker_pid)
            self.selector.register(self.worker_pidfd, selectors.EVENT_READ, None)
            for signum in _FORWARDED:
                signal.signal(signum, self._forward_to_worker)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
        print(
            f"warm starter: runs fork from {self.path} (worker pid {self.worker_pid})",
            file=sys.stderr,
            flush=True,
        )
        while True:
            for key, _ in self.selector.select():
                if key.fd == self.worker_pidfd:
                    return self._worker_exited()
                handle: Callable[[Any], _Fork | None] = key.data
                fork = handle(key.fileobj)
                if fork is not None:
                    return fork

    def _start_worker(self) -> int:
        environment = self.environment | {SOCKET_ENV: str(self.path)}
        pid = os.fork()
        if pid == 0:
            try:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
                os.execvpe(self.worker_command[0], self.worker_command, environment)
            finally:
                os._exit(127)
        return pid

    def _forward_to_worker(self, signum: int, _frame: object) -> None:
        try:
            os.kill(self.worker_pid, signum)
        except ProcessLookupError:
            pass

    def _worker_exited(self) -> int:
        _, status = os.waitpid(self.worker_pid, 0)
        self.listener.close()
        return os.waitstatus_to_exitcode(status)

    def _accept(self, listener: socket.socket) -> _Fork | None:
        conn, _ = listener.accept()
        conn.settimeout(10)  # a stuck client must not hold every other run
        fds: list[int] = []
        try:
            fds, request = _read_request(conn)
            changed = differences(request["env"], self.environment)
            if not changed:
                return self._fork(conn, fds, request)
            conn.sendall(f"cold its environment differs in {', '.join(changed)}\n".encode())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"warm starter: refused a request: {exc}", file=sys.stderr, flush=True)
        for fd in fds:
            os.close(fd)
        conn.close()
        return None

    def _fork(self, conn: socket.socket, fds: list[int], request: dict[str, Any]) -> _Fork | None:
        """Fork a run for the client; in the starter, its streams are the fork's now."""
        pid = os.fork()
        if pid == 0:
            return self._become_run(conn, fds, request)
        for fd in fds:
            os.close(fd)
        run = _Run(pid, conn, os.pidfd_open(pid))
        self.runs[run.pidfd] = run
        conn.settimeout(None)
        self.selector.register(run.pidfd, selectors.EVENT_READ, functools.partial(self._reap, run))
        gone = functools.partial(self._client_gone, run)
        self.selector.register(conn, selectors.EVENT_READ, gone)
        try:
            conn.sendall(f"pid {pid}\n".encode())
        except OSError:
            pass  # the client is gone: its closed end kills the run (_client_gone)
        flow_run = request["env"].get("PREFECT__FLOW_RUN_ID", "?")
        print(f"warm starter: flow run {flow_run} forked as pid {pid}", file=sys.stderr, flush=True)
        return None

    def _become_run(self, conn: socket.socket, fds: list[int], request: dict[str, Any]) -> _Fork:
        """In the fork: drop the starter's sockets and handlers, take the client's streams,
        environment and directory."""
        for signum in _FORWARDED:
            signal.signal(signum, signal.SIG_DFL)
        for run in self.runs.values():
            os.close(run.pidfd)
            if run.conn is not None:
                run.conn.close()
        self.selector.close()
        self.listener.close()
        conn.close()
        os.close(self.worker_pidfd)
        for target, fd in zip(_STDIO, fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        return _Fork(request["argv"])

    def _reap(self, run: _Run, _pidfd: int) -> None:
        del self.runs[run.pidfd]
        self.selector.unregister(run.pidfd)
        os.close(run.pidfd)
        _, status = os.waitpid(run.pid, 0)
        if run.conn is not None:
            self.selector.unregister(run.conn)
            try:
                run.conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
            except OSError:
                pass
            run.conn.close()

    def _client_gone(self, run: _Run, conn: socket.socket) -> None:
        """The client closed its end: it was killed, so its run is killed too."""
        try:
            if conn.recv(1):
                return  # nothing is sent after the request; ignore it
        except OSError:
            pass
        self.selector.unregister(conn)
        conn.close()
        run.conn = None
        try:
            os.kill(run.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _read_request(conn: socket.socket) -> tuple[list[int], dict[str, Any]]:
    """A client's standard streams (as descriptors) and its request (argv, env, cwd)."""
    header, fds, _, _ = socket.recv_fds(conn, _HEADER.size, len(_STDIO))
    try:
        if len(fds) != len(_STDIO) or len(header) != _HEADER.size:
            raise ValueError("a malformed request")
        (size,) = _HEADER.unpack(header)
        if not 0 < size <= _MAX_REQUEST:
            raise ValueError(f"a request of {size} bytes")
        payload = b""
        while len(payload) < size:
            chunk = conn.recv(size - len(payload))
            if not chunk:
                raise ValueError("the request was cut short")
            payload += chunk
        request: dict[str, Any] = json.loads(payload)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return fds, request


def run_engine(fork: _Fork) -> NoReturn:
    """Run `prefect.engine` as `python -m prefect.engine` would, in this (forked) process."""
    import runpy

    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()  # Prefect's settings from the run's environment
    sys.argv = [sys.argv[0], *fork.argv]
    # As `-m` runs it: the module's code anew as __main__ (what it imports stays imported).
    sys.modules.pop("prefect.engine", None)
    runpy.run_module("prefect.engine", run_name="__main__", alter_sys=True)
    sys.exit(0)


def serve(worker: list[str]) -> int:
    """Import the flows, then run the worker beside a socket that forks runs from here."""
    import threading

    started = time.monotonic()
    modules = preload()
    if threading.active_count() > 1:  # a fork would copy locks another thread may hold
        print("warm starter: an import started a thread; runs start cold", file=sys.stderr)
        os.execvp(worker[0], worker)
    directory = Path(tempfile.mkdtemp(prefix="hotspot-warm-"))
    path = directory / "starter.sock"
    print(
        f"warm starter: {len(modules)} modules imported in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    try:
        outcome = WarmStarter(path, worker).serve()
    finally:
        if os.getpid() == _starter_pid:
            path.unlink(missing_ok=True)
            directory.rmdir()
    if isinstance(outcome, _Fork):
        run_engine(outcome)
    return outcome


_starter_pid = os.getpid()


def main() -> None:
    arguments = sys.argv[1:]
    if arguments[:2] == ["serve", "--"] and len(arguments) > 2:
        exit_as(serve(arguments[2:]))
    launch()


if __name__ == "__main__":
    main()
