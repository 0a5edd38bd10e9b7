"""What every benchmark shares: figures, medians, the machine, processes, databases, Prefect."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from settings import PROJECT_DIR, settings
from stack.process import free_port

BENCH_DIR = settings.data_dir / "bench"
BIN = Path(sys.executable).parent
# The machine's PostgreSQL (trust auth), as the tests use it.
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Figure:
    """One line of the table: what was measured, against which target, and whether it held."""

    name: str
    measured: str
    target: str
    passed: bool | None  # None: reported, no target
    details: dict[str, Any] = field(default_factory=dict)


def median(values: Sequence[float]) -> float:
    """The median; NaN for no values, so a failed benchmark shows as such instead of crashing."""
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, Any]:
    """The machine the figures ran on."""
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": os.getloadavg(),
    }


def peak_rss_mib(pid: int) -> float:
    """A live process's peak resident set size (VmHWM), in MiB; 0 if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, grandchildren, ...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


# --- PostgreSQL --------------------------------------------------------------------------------


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh database on the local PostgreSQL (psycopg URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from store.db import engine_for

        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def asyncpg_url(url: str) -> str:
    """The same database for Prefect's server, which speaks asyncpg."""
    return sa.make_url(url).set(drivername="postgresql+asyncpg").render_as_string(False)


# --- processes ---------------------------------------------------------------------------------


@contextmanager
def background(
    command: list[str], *, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A process for the life of the block (SIGINT, then SIGKILL after 15 s)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=PROJECT_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(2)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def run_onboardings(spec: dict[str, Any], *, env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run `bench.runner` (onboardings in a fresh process) to its end; its JSON report."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as errors:
        done = subprocess.run(
            [sys.executable, "-m", "bench.runner"],
            input=json.dumps(spec).encode(),
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            cwd=PROJECT_DIR,
            timeout=spec.get("process_timeout", 900),
        )
    if done.returncode != 0:
        raise RuntimeError(f"bench.runner exited {done.returncode}; see {log}")
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


# --- Prefect -----------------------------------------------------------------------------------


class PrefectServer:
    """`prefect server start` on a throwaway PostgreSQL database, with its own PREFECT_HOME."""

    def __init__(self, database_url: str, *, home: Path, log: Path) -> None:
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.home = home
        self._database_url = database_url
        self._log = log
        self._stack: Any = None

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of any process that uses this server."""
        return {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }

    def __enter__(self) -> PrefectServer:
        from contextlib import ExitStack

        self.home.mkdir(parents=True, exist_ok=True)
        env = self.env(
            PREFECT_API_DATABASE_CONNECTION_URL=asyncpg_url(self._database_url),
            PREFECT_SERVER_UI_ENABLED="false",
        )
        env.pop("PREFECT_API_URL")
        self._stack = ExitStack()
        command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--no-ui"]
        self._stack.enter_context(background(command, env=env, log=self._log))
        try:
            self._wait()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _wait(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the Prefect server did not answer within {timeout:.0f} s; {self._log}")

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


# --- the store ---------------------------------------------------------------------------------


@contextmanager
def using_store(url: str) -> Iterator[None]:
    """Point this process's store at `url` (migrated) for the block."""
    from store.db import migrate

    previous = settings.database_url
    settings.database_url = url
    try:
        migrate(url)
        yield
    finally:
        settings.database_url = previous


def seed_companies(url: str, companies: list[dict[str, Any]]) -> None:
    """Create the companies in the store at `url`."""
    from store import crud
    from store.db import session_scope
    from store.schemas import CompanyIn

    with using_store(url), session_scope() as session:
        for company in companies:
            crud.upsert_company(session, company_in=CompanyIn.model_validate(company))


def deploy_onboarding(server: PrefectServer, *, pool: str, name: str) -> str:
    """Deploy the onboarding flow to a process pool of the server; `onboard-request/NAME`."""
    subprocess.run(
        [sys.executable, "-m", "bench.deploy", pool, name],
        env=server.env(),
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )
    return f"onboard-request/{name}"
