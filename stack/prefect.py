"""A Prefect server with this project deployed: what `up`, the tests, the benchmarks and the
screenshot script all start, the same way.

The server (`prefect server start`), its work pool, the deployments of prefect.yaml (`prefect
deploy`) and process workers (`prefect worker start`, beside a warm starter: `stack.warm`).
HotSpot's rate is shared through the store (`tasks.policy.StorePace`), not the server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from settings import PROJECT_DIR, settings
from stack.process import LOCALHOST, Service, StackError, free_port

if TYPE_CHECKING:  # Prefect's client is imported when used: commands that need none start fast
    from prefect.client.orchestration import SyncPrefectClient

BIN = Path(sys.executable).parent
WORK_POOL = "hotspot-onboarding"  # prefect.yaml's
ONBOARDING_DEPLOYMENT = "onboard-request/onboard-request"  # prefect.yaml's
# prefect.yaml's scheduled runs: nobody waits for them, so ops are told when one fails.
MAINTENANCE_DEPLOYMENTS = (
    "sweep-test-permits/sweep-test-permits",
    "check-integration-health/check-integration-health",
)
# A fresh database is migrated before the server answers: a minute or more on two busy cores.
SERVER_STARTUP_TIMEOUT = 600.0


def prefect_environment(api_url: str, *, home: Path) -> dict[str, str]:
    """The environment of every process of a stack: one Prefect API and home, no analytics,
    and this virtualenv first on PATH (the deployments run `python -m prefect.engine`)."""
    env = dict(os.environ)
    return env | {
        "PATH": os.pathsep.join([str(BIN), env.get("PATH", "")]),
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }


def stack_environment(api_url: str, *, home: Path, hotspot_url: str, rate: float) -> dict[str, str]:
    """What the workers and the watcher of a stack share: one Prefect API, this store, one
    HotSpot, HotSpot's rate across all of them (paced through the store), and onboardings on
    the workers."""
    return prefect_environment(api_url, home=home) | {
        "OFFSTREET_DATA_DIR": str(settings.data_dir),
        "OFFSTREET_DATABASE_URL": settings.resolved_database_url,
        "HOTSPOT_API_URL": hotspot_url,
        "HOTSPOT_RATE_LIMIT": f"{rate:g}",
        "ONBOARDING_DEPLOYMENT": ONBOARDING_DEPLOYMENT,
        # Runs say they are alive this often; silent for three, they are marked Crashed.
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(settings.run_heartbeat_seconds),
    }


def asyncpg_url(url: str) -> str:
    """A PostgreSQL URL of the store (psycopg) as the Prefect server's database URL (asyncpg)."""
    return sa.make_url(url).set(drivername="postgresql+asyncpg").render_as_string(False)


class PrefectServer(Service):
    """`prefect server start` on 127.0.0.1, its state in `home` (SQLite there by default)."""

    def __init__(
        self,
        *,
        home: Path,
        port: int | None = None,
        database_url: str | None = None,
        ui: bool = False,
        log: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.ui_url = f"http://{LOCALHOST}:{self.port}"
        self.api_url = f"{self.ui_url}/api"
        self.home = home
        env = prefect_environment(self.api_url, home=home)
        if database_url is not None:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
        command = [str(BIN / "prefect"), "server", "start", "--host", LOCALHOST]
        command += ["--port", str(self.port), *([] if ui else ["--no-ui"])]
        home.mkdir(parents=True, exist_ok=True)
        super().__init__(
            "the Prefect server",
            command,
            env=env,
            log=log,
            health=f"{self.api_url}/health",
            startup_timeout=SERVER_STARTUP_TIMEOUT,
        )

    def environment(self, **extra: str) -> dict[str, str]:
        """The environment of a process that uses this server, with `extra` on top."""
        return prefect_environment(self.api_url, home=self.home) | extra

    def client(self) -> SyncPrefectClient:
        """A client of this server (use it with `with`)."""
        from prefect.client.orchestration import SyncPrefectClient

        return SyncPrefectClient(self.api_url)


def ensure_work_pool(client: SyncPrefectClient, name: str = WORK_POOL) -> None:
    """The process work pool (left as it is when it exists)."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    try:
        client.create_work_pool(
            WorkPoolCreate(name=name, type="process", base_job_template=template)
        )
    except ObjectAlreadyExists:
        pass


def prepare(server: PrefectServer, env: dict[str, str]) -> None:
    """The work pool and every deployment of prefect.yaml (idempotent)."""
    with server.client() as client:
        ensure_work_pool(client)
    deploy(env)


def deploy(env: dict[str, str], *, pool: str | None = None) -> None:
    """`prefect deploy` of prefect.yaml: every deployment, or only the onboarding one to `pool`."""
    which = ["--all"] if pool is None else ["--name", ONBOARDING_DEPLOYMENT, "--pool", pool]
    done = subprocess.run(
        [str(BIN / "prefect"), "--no-prompt", "deploy", *which],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
        raise StackError(f"`prefect deploy` failed: {' '.join(last) or 'no output'}")


def worker(
    name: str, *, env: dict[str, str], pool: str = WORK_POOL, limit: int | None = None, log: Path
) -> Service:
    """A process worker of the pool (not started), its runs forked from a warm starter
    (`stack.warm`) that has imported the flows once."""
    command = [str(BIN / "prefect"), "worker", "start", "--pool", pool, "--name", name]
    if limit is not None:
        command += ["--limit", str(limit)]
    warm = [str(BIN / "python"), "-m", "stack.warm", "serve", "--", *command]
    return Service(f"worker {name}", warm, env=env, log=log)
