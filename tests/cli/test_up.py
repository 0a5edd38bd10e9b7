"""`make up` as a real process (make, then `hotspot-onboard up`), from a fresh data dir and a
cold PREFECT_HOME: the UI answers, the pool, the rate limit, the deployments and the automations
exist; another shell with the settings it printed onboards a request whose deployed run suspends
(ops get the mail); and SIGTERM stops every process of its tree, a run in flight included."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import SyncPrefectClient

from settings import PROJECT_DIR
from stack.automations import CRASH_DETECTION, NOTICES
from stack.prefect import ONBOARDING_DEPLOYMENT, WORK_POOL
from stack.process import alive, check_port_free, descendants, free_port, wait_until
from testing.cli import CLI, SAMPLE, SEED, form_file, fresh_environment
from tests.servers.smtp import SmtpCapture


class Up:
    """The `up` process, its output, and where it serves."""

    def __init__(
        self, process: subprocess.Popen[bytes], output: Path, port: int, sandbox_url: str
    ) -> None:
        self.process, self.output_file, self.sandbox_url = process, output, sandbox_url
        self.port = port
        self.ui = f"http://127.0.0.1:{port}"
        self.api = f"{self.ui}/api"

    def output(self) -> str:
        return self.output_file.read_text(errors="replace")


@pytest.fixture
def up(tmp_path: Path, smtp_capture: SmtpCapture) -> Iterator[Up]:
    """`make up` as the README says, notices by email to the SMTP capture, the sandbox and the
    UI on free ports (`UP_ARGS`)."""
    port, sandbox_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = fresh_environment(
        tmp_path,
        sandbox_url,
        SANDBOX_PORT=str(sandbox_port),
        SMTP_HOST=smtp_capture.host,
        SMTP_PORT=str(smtp_capture.port),
        SMTP_SECURITY="none",
        OPS_NOTIFY_EMAIL="ops@offstreet.example",
    )
    output = tmp_path / "up.txt"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [
                "make",
                "-s",
                "-C",
                str(PROJECT_DIR),
                "up",
                f"UP_ARGS=--port {port} --workers 1 --runs-per-worker 3",
            ],
            env=env,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    stack = Up(process, output, port, sandbox_url)
    try:
        started = wait_until(lambda: "Prefect UI" in stack.output(), timeout=900, process=process)
        assert started, stack.output()
        yield stack
    finally:
        if process.poll() is None:
            tree = [process.pid, *descendants(process.pid)]
            process.terminate()
            process.wait(timeout=120)
            wait_until(lambda: not any(alive(p) for p in tree), timeout=30, process=None)


def test_up_serves_the_ui_with_everything_deployed_and_sigterm_leaves_nothing(
    up: Up, tmp_path: Path, smtp_capture: SmtpCapture
) -> None:
    page = httpx.get(up.ui, timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "Workers        1, each running up to 3 flow runs at once" in up.output()
    workers = [cmdline(p) for p in descendants(up.process.pid) if b"worker\0start" in cmdline(p)]
    assert workers and all(b"--limit\x003\x00" in command for command in workers)
    with SyncPrefectClient(up.api) as client:
        assert client.read_work_pool(WORK_POOL).type == "process"
        assert client.read_deployment_by_name(ONBOARDING_DEPLOYMENT).work_pool_name == WORK_POOL
        assert client.read_deployment_by_name("watch-inbox/watch-inbox")
        health = client.read_deployment_by_name("check-integration-health/check-integration-health")
        assert [s.schedule.cron for s in health.schedules] == ["0 6 * * *"]  # type: ignore[union-attr]
        names = sorted(a.name for a in client.read_automations())
    assert names == sorted([CRASH_DETECTION, *(name for name, *_ in NOTICES)])

    # Another shell, with what `up` printed: seed first, then a request that waits on ops.
    exports = dict(re.findall(r"^  export (\w+)=(\S+)$", up.output(), re.MULTILINE))
    assert exports["PREFECT_API_URL"] == up.api
    assert exports["ONBOARDING_DEPLOYMENT"] == ONBOARDING_DEPLOYMENT
    shell = fresh_environment(tmp_path, up.sandbox_url) | exports
    assert subprocess.run([CLI, "seed", SEED], env=shell, cwd=tmp_path).returncode == 0
    waiting = subprocess.run(
        [CLI, "onboard", SAMPLE], env=shell, cwd=tmp_path, capture_output=True, timeout=600
    )
    assert waiting.returncode == 4, waiting.stderr  # the deployed run suspended for the token
    mails = smtp_capture.wait_for(2, timeout=120)  # ops are told; Acme gets its token link
    [notice] = [mail for mail in mails if mail.rcpt_tos == ("ops@offstreet.example",)]
    assert notice.message["Subject"].startswith("HotSpot onboarding waits for ops: Acme Parking")
    [ask] = [mail for mail in mails if mail is not notice]
    assert "/hotspot-token" in ask.message.get_body().get_content()  # a link, never "reply"

    # A deployed run in flight on the worker (TEST123 never shows) when `up` gets SIGTERM.
    knobs = {"delay_min": 900, "delay_max": 900}
    httpx.post(f"{up.sandbox_url}/_sandbox/config", json=knobs).raise_for_status()
    follower = subprocess.Popen(
        [CLI, "onboard", form_file(tmp_path, {"Lot D": "17777"}), "--verify-timeout", "600"],
        env=shell,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        engine = wait_until(
            lambda: any(is_a_run(cmdline(p)) for p in descendants(up.process.pid)),
            timeout=300,
            process=up.process,
        )
        assert engine, f"the run never started on the worker:\n{up.output()}"
        tree = [up.process.pid, *descendants(up.process.pid)]

        up.process.send_signal(signal.SIGTERM)  # make passes it on to `up` and waits for it

        assert up.process.wait(timeout=120) == -signal.SIGTERM, up.output()
    finally:
        follower.kill()
        follower.wait()
    assert up.output().rstrip().endswith("Stopped.")
    gone = wait_until(lambda: not any(alive(p) for p in tree), timeout=30, process=None)
    assert gone, [cmdline(p) for p in tree if alive(p)]
    check_port_free(up.port, hint="`up` left its server behind")


def test_up_refuses_a_port_in_use_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [CLI, "up", "--port", str(port)],
            env=fresh_environment(tmp_path, "http://127.0.0.1:9"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and f"port {port} on 127.0.0.1 is in use" in done.stderr


def is_a_run(command: bytes) -> bool:
    """A flow run's process as the worker starts it (prefect.yaml's command), or a cold one."""
    return command.endswith(b"-m\0stack.warm\0") or b"prefect.engine" in command


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
