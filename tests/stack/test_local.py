"""Embedded mode as a person meets it: `hotspot-onboard` commands as real processes, from a
fresh data dir and a cold PREFECT_HOME, without PREFECT_API_URL, outside the project (so
pyproject's [tool.prefect] does not apply). They share one local Prefect server."""

from __future__ import annotations

import subprocess
from pathlib import Path

from stack.local import LocalServer
from stack.process import alive, descendants, wait_until
from testing.cli import CLI, SAMPLE, SEED, form_file, fresh_environment


def hotspot_onboard(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def supervisors(data_dir: Path) -> list[int]:
    """The local servers' supervisors running for this data dir."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"stack.local" in command and str(data_dir).encode() in command:
            found.append(int(entry.name))
    return found


def test_two_commands_at_once_start_one_server_and_both_finish(tmp_path: Path, sandbox) -> None:
    env = fresh_environment(tmp_path, sandbox.url)
    data = tmp_path / "data"
    assert hotspot_onboard("seed", SEED, env=env, cwd=tmp_path).returncode == 0
    requests = [SAMPLE, form_file(tmp_path, {"Lot D": "17777"})]  # waits on ops; goes live
    commands = [
        subprocess.Popen(
            [CLI, "onboard", request],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for request in requests
    ]
    try:
        outputs = [command.communicate(timeout=900) for command in commands]
        assert [c.returncode for c in commands] == [4, 0], outputs
        assert [err.count("Starting the local Prefect server") for _, err in outputs] in (
            [1, 1],  # the second waited for the one the first started
            [1, 0],
            [0, 1],
        )
        assert all("Traceback" not in err for _, err in outputs), outputs
        record = LocalServer(data).read()
        assert record is not None and record.owner == "cli"
        assert supervisors(data) == [record.pid]
        status = hotspot_onboard("server", "status", env=env, cwd=tmp_path)
        assert record.api_url in status.stdout and "started by the CLI" in status.stdout
    finally:
        for command in commands:
            command.kill()
        stopped = hotspot_onboard("server", "stop", env=env, cwd=tmp_path)
    assert stopped.returncode == 0, stopped.stderr
    assert not supervisors(data)
    assert LocalServer(data).read() is None


def test_a_killed_command_leaves_only_the_shared_server_which_stops_when_unused(
    tmp_path: Path, sandbox
) -> None:
    sandbox.configure(delay=600)  # TEST123 does not show: the command stays in verification
    env = fresh_environment(
        tmp_path, sandbox.url, VERIFY_TIMEOUT_SECONDS="600", EMBEDDED_SERVER_IDLE_SECONDS="1"
    )
    data = tmp_path / "data"
    assert hotspot_onboard("seed", SEED, env=env, cwd=tmp_path).returncode == 0
    command = subprocess.Popen(
        [CLI, "onboard", form_file(tmp_path, {"Lot D": "17777"})],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        in_flight = wait_until(lambda: bool(sandbox.state()["permits"]), timeout=600, process=None)
        assert in_flight and command.poll() is None, "the onboarding never issued its permit"
        record = LocalServer(data).read()
        assert record is not None
        shared = {record.pid, *descendants(record.pid)}
        own = set(descendants(command.pid)) - shared

        command.kill()
        command.wait()
    finally:
        command.kill()

    assert wait_until(lambda: not any(alive(p) for p in own), timeout=30, process=None)
    # The server is shared deliberately; unused, it stops (EMBEDDED_SERVER_IDLE_SECONDS).
    assert wait_until(lambda: not any(alive(p) for p in shared), timeout=120, process=None)
    assert LocalServer(data).read() is None
