"""`hotspot-onboard up`: the whole stack on one machine, to run it as ops would.

A Prefect server with its UI (its state in `<data dir>/prefect`, SQLite unless
PREFECT_API_DATABASE_CONNECTION_URL says otherwise), the work pool, the deployments of
prefect.yaml, the notification automations, process workers (with warm starts), the
HotSpot sandbox (unless HOTSPOT_API_URL is a real HotSpot), and the inbox watcher when a
mailbox is configured. Commands without PREFECT_API_URL use this server too (stack.local).
Ctrl-C or SIGTERM stops every process it started, newest first, with what they started.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import time
from contextlib import ExitStack
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console

from hotspot_sandbox.config import SandboxSettings
from settings import LOCAL_HOSTS, settings
from stack.local import LocalServer, ServerRecord
from stack.prefect import (
    BIN,
    ONBOARDING_DEPLOYMENT,
    WORK_POOL,
    PrefectServer,
    prepare,
    stack_environment,
    worker,
)
from stack.process import Service, StackError, check_port_free
from stack.sandbox import SandboxProcess
from store.db import migrate

# HotSpot's limit for Offstreet's key, when HOTSPOT_RATE_LIMIT does not say.
DEFAULT_RATE = 20.0


def up(
    port: Annotated[int, typer.Option(help="Port of the Prefect server and its UI.")] = 4200,
    workers: Annotated[int, typer.Option(min=1, help="Process workers to start.")] = 1,
    runs_per_worker: Annotated[
        int,
        typer.Option(
            min=1,
            help="Flow runs each worker runs at once; the others wait in the queue. Each holds "
            "a few store connections: keep workers × runs under PostgreSQL's max_connections.",
        ),
    ] = 10,
) -> None:
    """The whole stack on this machine: Prefect server and UI, workers, sandbox, watcher."""
    console = Console()
    try:
        migrate()
        raise typer.Exit(
            run_stack(console, port=port, workers=workers, runs_per_worker=runs_per_worker)
        )
    except (StackError, httpx.HTTPError) as exc:
        typer.echo(f"hotspot-onboard up: {exc}", err=True)
        raise typer.Exit(1) from None


def run_stack(console: Console, *, port: int, workers: int, runs_per_worker: int) -> int:
    """Start everything, say what another shell needs, run until Ctrl-C or SIGTERM; 0, or 1
    when a process of the stack stopped on its own."""
    signal.signal(signal.SIGTERM, _interrupt)
    sandboxed = (urlsplit(settings.hotspot_api_url).hostname or "") in LOCAL_HOSTS
    check_port_free(port, hint="another `make up`? Choose the UI's port with --port")
    if sandboxed:
        check_port_free(SandboxSettings().port, hint="choose the sandbox's port with SANDBOX_PORT")
    logs = settings.data_dir / "logs"
    rate = settings.hotspot_rate_limit or DEFAULT_RATE
    services: list[Service] = []
    code = 0
    with ExitStack() as stack:
        try:
            console.print("Starting the Prefect server (its first start sets up its database)…")
            server, hotspot_url = _start_servers(stack, port=port, sandboxed=sandboxed)
            env = stack_environment(
                server.api_url, home=server.home, hotspot_url=hotspot_url, rate=rate
            )
            prepare(server, env)
            asyncio.run(_notifications(server.api_url))
            for number in range(1, workers + 1):
                name = f"worker-{number}"
                log = logs / f"{name}.log"
                services.append(worker(name, env=env, limit=runs_per_worker, log=log))
            if settings.imap_host:
                watch = [str(BIN / "hotspot-onboard"), "watch"]
                services.append(Service("the watcher", watch, env=env, log=logs / "watcher.log"))
            for service in services:
                stack.enter_context(service)
            _print_summary(
                console,
                server,
                hotspot_url,
                rate=rate,
                workers=workers,
                runs_per_worker=runs_per_worker,
            )
            while all(service.running for service in [server, *services]):
                time.sleep(1)
            stopped = next(s for s in [server, *services] if not s.running)
            console.print(f"[red]{stopped.name} stopped on its own[/red] (see {logs}); stopping")
            code = 1
        except KeyboardInterrupt:
            console.print("Stopping…")
        finally:  # a second Ctrl-C must not cut the stopping short
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    console.print("Stopped.")
    return code


def _start_servers(stack: ExitStack, *, port: int, sandboxed: bool) -> tuple[PrefectServer, str]:
    """The sandbox and the Prefect server, recorded as the data dir's local server (a server
    the CLI started for it is stopped first: this one replaces it)."""
    local = LocalServer(settings.data_dir)
    with local.locked(local.lock_file):
        running = local.read()
        if running is not None and running.owner == "up":
            raise StackError(f"`make up` already runs for {settings.data_dir} ({running.api_url})")
        if running is not None:
            try:
                with local.locked(local.in_use_file, fcntl.LOCK_EX | fcntl.LOCK_NB):
                    local.stop(running)
            except BlockingIOError:
                raise StackError(
                    "a command (`watch`, `serve`, ...) uses the local Prefect server the CLI "
                    "started for this data dir: stop it first"
                ) from None
        hotspot_url = settings.hotspot_api_url
        if sandboxed:
            log = settings.data_dir / "logs" / "sandbox.log"
            sandbox = stack.enter_context(SandboxProcess(port=SandboxSettings().port, log=log))
            hotspot_url = sandbox.url
        log = settings.data_dir / "logs" / "prefect-server.log"
        server = PrefectServer(home=local.home, port=port, ui=True, log=log)
        stack.enter_context(server)
        local.write(ServerRecord.of(server.api_url, os.getpid(), "up"))
        stack.callback(local.forget, os.getpid())
    return server, hotspot_url


async def _notifications(api_url: str) -> None:
    from prefect.client.orchestration import PrefectClient

    from stack.automations import configure_notifications

    async with PrefectClient(api_url) as client:
        await configure_notifications(client, settings, deployment=ONBOARDING_DEPLOYMENT)


def _print_summary(
    console: Console,
    server: PrefectServer,
    hotspot_url: str,
    *,
    rate: float,
    workers: int,
    runs_per_worker: int,
) -> None:
    """Where everything is, and what another shell exports to use this stack."""
    from stack.automations import describe

    sandbox = "the sandbox" if hotspot_url != settings.hotspot_api_url else "HOTSPOT_API_URL"
    imap = f"{settings.imap_user} at {settings.imap_host}" if settings.imap_host else None
    rows = [
        ("HotSpot", f"{hotspot_url} ({sandbox})"),
        ("Prefect API", server.api_url),
        ("Deployments", f"prefect.yaml's, on pool '{WORK_POOL}'"),
        ("Workers", f"{workers}, each running up to {runs_per_worker} flow runs at once"),
        ("Rate limit", f"{rate:g} HotSpot calls/s across all workers (paced through the store)"),
        ("Inbox watcher", imap or "off (set IMAP_HOST and IMAP_USER to watch a mailbox)"),
        ("Notifications", describe(settings)),
        ("Logs", str(settings.data_dir / "logs")),
    ]
    for label, value in rows:
        console.print(f"{label:<15}{value}", highlight=False)
    exports = {
        "PREFECT_API_URL": server.api_url,
        "ONBOARDING_DEPLOYMENT": ONBOARDING_DEPLOYMENT,
        "OFFSTREET_DATA_DIR": str(settings.data_dir),
        "HOTSPOT_API_URL": hotspot_url,
        "HOTSPOT_RATE_LIMIT": f"{rate:g}",
    }
    console.print("\nIn another shell (seed your companies first: hotspot-onboard seed FILE):")
    for name, value in exports.items():
        console.print(f"  export {name}={value}", highlight=False, soft_wrap=True)
    console.print(
        f"\n[bold]Prefect UI     {server.ui_url}[/bold]  (Ctrl-C stops everything)",
        highlight=False,
    )


def _interrupt(signum: int, frame: object) -> None:
    """A service manager's SIGTERM stops the stack as Ctrl-C does."""
    raise KeyboardInterrupt
