"""The warm starter as processes: a run the worker starts is a fork of it, running
`prefect.engine` with the run's streams; an environment it was not imported under, or no
starter at all, is a cold start; signals reach the fork, and a killed run takes its fork along.

The worker here is a stand-in that sleeps: the test plays the worker, starting the run's
command (`python -m stack.warm`) itself, as a process worker would."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from settings import PROJECT_DIR
from stack.process import alive
from stack.warm import SOCKET_ENV

FORKED = re.compile(r"flow run (\S+) forked as pid (\d+)")
NOT_A_RUN = {"PREFECT__FLOW_RUN_ID": "not-a-flow-run-id"}


class Starter:
    """`python -m stack.warm serve -- <a sleeping worker>`, and its output so far."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        worker = [sys.executable, "-c", "import time; time.sleep(600)"]
        command = [sys.executable, "-m", "stack.warm", "serve", "--", *worker]
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command, env=env, cwd=PROJECT_DIR, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while (found := re.search(r"runs fork from (\S+)", self.output())) is None:
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.1)
        self.socket = found.group(1)

    def output(self) -> str:
        return self.log.read_text()

    def run(self, extra: dict[str, str], **popen: object) -> subprocess.Popen[str]:
        """A flow run's process as the worker starts it."""
        env = self.env | {SOCKET_ENV: self.socket} | extra
        return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
            [sys.executable, "-m", "stack.warm"],
            env=env,
            cwd=PROJECT_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **popen,
        )

    def forked_pid(self, flow_run: str, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for run, pid in FORKED.findall(self.output()):
                if run == flow_run:
                    return int(pid)
            time.sleep(0.1)
        raise AssertionError(f"flow run {flow_run} was not forked:\n{self.output()}")


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ) | {"PREFECT_HOME": str(tmp_path / "prefect"), "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def starter(environment: dict[str, str], tmp_path: Path) -> Iterator[Starter]:
    started = Starter(environment, tmp_path / "starter.log")
    yield started
    started.process.send_signal(signal.SIGTERM)  # passed on to the worker, which dies of it
    assert started.process.wait(timeout=30) == -signal.SIGTERM, started.output()
    assert not Path(started.socket).exists()


@pytest.fixture
def silent_api() -> Iterator[str]:
    """An API that accepts connections and never answers: a run that stays at work."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_run_is_a_fork_of_the_warm_starter_with_the_runs_streams(starter: Starter) -> None:
    run = starter.run(NOT_A_RUN)
    _, stderr = run.communicate(timeout=60)

    assert run.returncode == 1  # prefect.engine's own answer to a bad flow run id
    assert "Invalid flow run id" in stderr  # written by the fork, on the run's stderr
    assert "cold" not in stderr
    starter.forked_pid("not-a-flow-run-id")


def test_a_run_under_another_environment_starts_cold(starter: Starter) -> None:
    run = starter.run(NOT_A_RUN | {"HOTSPOT_API_URL": "https://elsewhere.example"})
    _, stderr = run.communicate(timeout=60)

    assert "its environment differs in HOTSPOT_API_URL); starting cold" in stderr
    assert run.returncode == 1 and "Invalid flow run id" in stderr  # the engine ran, cold
    assert "forked" not in starter.output()


def test_without_a_warm_starter_a_run_starts_cold(
    environment: dict[str, str], tmp_path: Path
) -> None:
    for extra, said in (({}, ""), ({SOCKET_ENV: str(tmp_path / "gone.sock")}, "starting cold")):
        run = subprocess.run(
            [sys.executable, "-m", "stack.warm"],
            env=environment | NOT_A_RUN | extra,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 1 and "Invalid flow run id" in run.stderr
        assert said in run.stderr


def test_a_malformed_request_is_refused_and_the_starter_goes_on(starter: Starter) -> None:
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(starter.socket)
        conn.sendall(b"\xff" * 64)
        try:
            answer = conn.recv(100)
        except ConnectionResetError:  # closed with our bytes unread
            answer = b""
        assert answer == b""  # no fork

    run = starter.run(NOT_A_RUN)
    _, stderr = run.communicate(timeout=60)
    assert "Invalid flow run id" in stderr and "cold" not in stderr
    assert "refused a request" in starter.output()


def test_a_signal_to_the_run_reaches_its_fork(starter: Starter, silent_api: str) -> None:
    flow_run = str(uuid.uuid4())
    run = starter.run({"PREFECT__FLOW_RUN_ID": flow_run, "PREFECT_API_URL": silent_api})
    fork = starter.forked_pid(flow_run)
    time.sleep(1)  # the engine is waiting on the API
    assert run.poll() is None and alive(fork)

    run.send_signal(signal.SIGTERM)  # how a worker cancels a run
    run.wait(timeout=30)

    assert run.returncode != 0
    assert not alive(fork)


def test_a_killed_run_takes_its_fork_along(starter: Starter, silent_api: str) -> None:
    flow_run = str(uuid.uuid4())
    run = starter.run({"PREFECT__FLOW_RUN_ID": flow_run, "PREFECT_API_URL": silent_api})
    fork = starter.forked_pid(flow_run)

    run.kill()  # SIGKILL: no chance to pass anything on
    run.wait(timeout=10)

    deadline = time.monotonic() + 10
    while alive(fork) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(fork)
