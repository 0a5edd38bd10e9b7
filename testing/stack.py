"""A Prefect server with the project deployed and workers added on demand, started by the
same launcher as `make up`: for the deployment tests and the screenshot script."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from prefect.settings import PREFECT_API_URL, temporary_settings

from stack.prefect import PrefectServer, prepare, stack_environment, worker
from stack.process import Service


@dataclass
class DeployedStack:
    """The server, the environment its processes share, and a way to add workers."""

    server: PrefectServer
    env: dict[str, str]
    logs: Path
    _exits: ExitStack

    def add_worker(self, name: str) -> Service:
        """Start a worker (stopped with the stack); its handle, to stop it sooner."""
        return self._exits.enter_context(worker(name, env=self.env, log=self.logs / f"{name}.log"))


@contextmanager
def deployed_stack(
    *,
    home: Path,
    logs: Path,
    hotspot_url: str,
    rate: float,
    database_url: str | None = None,
    ui: bool = False,
    env: dict[str, str] | None = None,
) -> Iterator[DeployedStack]:
    """Server, work pool, rate limit and deployments; this process's Prefect API points at it.
    Workers and server are stopped, newest first, at the end."""
    with ExitStack() as exits:
        server = PrefectServer(home=home, database_url=database_url, ui=ui, log=logs / "server.log")
        exits.enter_context(server)
        shared = stack_environment(
            server.api_url, home=home, hotspot_url=hotspot_url, rate=rate
        ) | (env or {})
        prepare(server, shared)
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield DeployedStack(server, shared, logs, exits)
