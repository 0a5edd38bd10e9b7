"""`hotspot-onboard up`: the whole stack on one machine, to try it as ops would.

A Prefect server with its UI (SQLite in the data dir unless PREFECT_API_DATABASE_CONNECTION_URL
says otherwise), the deployments of prefect.yaml, a process worker, the HotSpot sandbox, and the
inbox watcher when a mailbox is configured. Ctrl-C stops everything, newest first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from rich.console import Console

from hotspot.sandbox_process import SandboxProcess
from settings import PROJECT_DIR, settings
from store.files import private_file

BIN = Path(sys.executable).parent
WORK_POOL = "hotspot-onboarding"
ONBOARDING_DEPLOYMENT = "onboard-request/onboard-request"
RATE_LIMIT_NAME = "hotspot-api"


def stack_environment(*, api_url: str, hotspot_url: str, rate: float) -> dict[str, str]:
    """What every process of the stack shares: one Prefect API, one store, one HotSpot, and
    one rate limit for HotSpot across all of them."""
    return {
        **os.environ,
        "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(settings.data_dir / "prefect")),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "OFFSTREET_DATA_DIR": str(settings.data_dir),
        "OFFSTREET_DATABASE_URL": settings.resolved_database_url,
        "HOTSPOT_API_URL": hotspot_url,
        "HOTSPOT_RATE_LIMIT": str(rate),
        "HOTSPOT_GLOBAL_RATE_LIMIT": RATE_LIMIT_NAME,
        "ONBOARDING_DEPLOYMENT": ONBOARDING_DEPLOYMENT,
    }


def prepare_server(*, env: dict[str, str], rate: float) -> None:
    """The work pool, the shared HotSpot rate limit and the deployments (all idempotent)."""
    prefect("work-pool", "create", WORK_POOL, "--type", "process", "--overwrite", env=env)
    slots = str(max(1, int(rate)))
    try:
        prefect(
            "gcl",
            "create",
            RATE_LIMIT_NAME,
            "--limit",
            slots,
            "--slot-decay-per-second",
            str(rate),
            env=env,
        )
    except subprocess.CalledProcessError:
        prefect(
            "gcl",
            "update",
            RATE_LIMIT_NAME,
            "--limit",
            slots,
            "--slot-decay-per-second",
            str(rate),
            env=env,
        )
    prefect("--no-prompt", "deploy", "--all", env=env)


def server_command(port: int) -> list[str]:
    return [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]


def worker_command(name: str) -> list[str]:
    return [str(BIN / "prefect"), "worker", "start", "--pool", WORK_POOL, "--name", name]


@contextmanager
def background(command: list[str], *, env: dict[str, str], log: Path) -> Iterator[None]:
    """Run a process for the life of the block; stop it with SIGINT, then SIGKILL."""
    with private_file(log).open("ab") as output:
        process = subprocess.Popen(
            command, env=env, cwd=PROJECT_DIR, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_api(api_url: str, *, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the Prefect server did not answer at {api_url} within {timeout:.0f} s")


def prefect(*args: str, env: dict[str, str]) -> None:
    """Run one `prefect` CLI command to its end, failing loudly."""
    subprocess.run(
        [str(BIN / "prefect"), *args],
        env=env,
        cwd=PROJECT_DIR,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def stop_on_sigterm(signum: int, frame: object) -> None:
    """A service manager's SIGTERM stops the stack as cleanly as Ctrl-C."""
    raise KeyboardInterrupt


def run_stack(console: Console, *, port: int, workers: int) -> None:
    """Start everything, print where the UI is, and keep running until Ctrl-C."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    logs = settings.data_dir / "logs"
    api_url = f"http://127.0.0.1:{port}/api"
    with ExitStack() as stack:
        sandbox = stack.enter_context(SandboxProcess(port=settings.sandbox_port))
        env = stack_environment(api_url=api_url, hotspot_url=sandbox.url)
        console.print(f"HotSpot sandbox   {sandbox.url}")
        stack.enter_context(
            background(
                [
                    str(BIN / "prefect"),
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
                log=logs / "prefect-server.log",
            )
        )
        wait_for_api(api_url)
        prefect("work-pool", "create", WORK_POOL, "--type", "process", "--overwrite", env=env)
        prefect("--no-prompt", "deploy", "--all", env=env)
        for number in range(1, workers + 1):
            stack.enter_context(
                background(
                    [
                        str(BIN / "prefect"),
                        "worker",
                        "start",
                        "--pool",
                        WORK_POOL,
                        "--name",
                        f"worker-{number}",
                    ],
                    env=env,
                    log=logs / f"worker-{number}.log",
                )
            )
        if settings.imap_host:
            stack.enter_context(
                background(
                    [str(BIN / "hotspot-onboard"), "watch"], env=env, log=logs / "watcher.log"
                )
            )
            console.print(f"Inbox watcher     {settings.imap_user} at {settings.imap_host}")
        else:
            console.print("Inbox watcher     off (set IMAP_HOST to watch a mailbox)")
        console.print(f"Workers           {workers} on pool '{WORK_POOL}'; logs in {logs}")
        console.print(f"Prefect UI        http://127.0.0.1:{port}  (Ctrl-C stops)", style="bold")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("Stopping…")
