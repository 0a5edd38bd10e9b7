"""What every benchmark shares: figures, medians, the machine, the store, the deployment.

Processes, throwaway databases and the Prefect server come from `stack` and `testing`, as for
`make up` and the tests."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from settings import PROJECT_DIR, settings
from stack.prefect import ONBOARDING_DEPLOYMENT, PrefectServer, deploy, ensure_work_pool

BENCH_DIR = settings.data_dir / "bench"
# The fewest HotSpot calls a SpotID takes: GET spot, POST permit, GET lookup, DELETE permit.
# Calls over the rate plus the propagation delay bound any onboarding from below.
REQUESTS_PER_SPOT = 4


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


# --- onboardings in a fresh process -----------------------------------------------------------


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
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


# --- the store ---------------------------------------------------------------------------------


@contextmanager
def store_session(url: str) -> Iterator[Session]:
    """A session on the store at `url` (migrated first), committed at the end of the block;
    this process's settings still name its own store."""
    from store.db import migrate, session_scope

    migrate(url)
    with session_scope(url) as session:
        yield session


def seed_companies(url: str, companies: list[dict[str, Any]]) -> None:
    """Create the companies in the store at `url`."""
    from store import crud
    from store.schemas import CompanyIn

    with store_session(url) as session:
        crud.seed_companies(session, companies=map(CompanyIn.model_validate, companies))


def record_bench_request(
    session: Session, *, company_name: str, spots: list[tuple[str, str]], raw: bytes
) -> int:
    """Store a request of the company for these (location, SpotID) pairs, as intake would
    after admitting it; its id."""
    import uuid

    from store import crud
    from store.models import RequestSource

    company = crud.get_company_by_name(session, name=company_name)
    assert company is not None
    request, _ = crud.record_request(
        session,
        key=f"bench:{uuid.uuid4().hex}",
        source=RequestSource.form,
        raw=raw,
        parsed=None,
        sender=company.contacts[0],
        subject="benchmark",
        spots=spots,
        company_id=company.id,
    )
    return request.id or 0


def deploy_onboarding(server: PrefectServer, *, pool: str) -> str:
    """prefect.yaml's onboarding deployment, as `make up` deploys it, on a process pool of its
    own (a later call moves the deployment; runs already made stay in their pool); its name."""
    with server.client() as client:
        ensure_work_pool(client, pool)
    deploy(server.environment(), pool=pool)
    return ONBOARDING_DEPLOYMENT
