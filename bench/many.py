"""Many requests at once: 50 companies' requests arriving together, on one and on two workers.

Self-contained production topology: the bench's `prefect server` (PostgreSQL), the onboarding
flow deployed from this checkout to a process work pool, `prefect worker start` processes
(each flow run a subprocess, as in production), a PostgreSQL store shared by them all, and
the sandbox limited to 20 req/s with a 5 s propagation delay. The 50 flow runs are created at
once through the API, as the watcher does with ONBOARDING_DEPLOYMENT set. Throughput is
requests (and SpotIDs) taken live per minute, from the moment they were created to the last
run's end; the bound is HotSpot's: the fewest calls of 200 SpotIDs over the rate, plus the
propagation delay (the issue's target: two workers within 1.5× of it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import httpx

from bench.common import (
    BENCH_DIR,
    REQUESTS_PER_SPOT,
    Figure,
    deploy_onboarding,
    peak_rss_mib,
    record_bench_request,
    store_session,
)
from stack.prefect import PrefectServer, worker
from stack.process import descendants, tree_cpu_seconds
from stack.sandbox import SandboxProcess
from testing.databases import throwaway_postgres

COMPANIES = 50
SPOTS_EACH = 4
RATE = 20.0
DELAY = 5.0
WORKER_LIMIT = 10  # flow runs at once per worker: 20 stores of a PostgreSQL with 100 connections
CAP_S = 300.0  # per configuration, so `make bench` stays bounded; what is not done by then fails
POOL = "bench-many"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
BOUND_S = COMPANIES * SPOTS_EACH * REQUESTS_PER_SPOT / RATE + DELAY
TARGET_RATIO = 1.5  # on two workers


def companies() -> list[dict[str, Any]]:
    return [
        {
            "name": f"Many Parking {c:02d}",
            "contacts": [f"ops@many{c:02d}.example"],
            "locations": [f"Stall {n}" for n in range(SPOTS_EACH)],
            "hotspot_operators": ["Bench Parking"],
        }
        for c in range(COMPANIES)
    ]


def store_requests(url: str) -> list[int]:
    """Seed the companies and store one request per company; their ids."""
    import json

    from store import crud
    from store.schemas import CompanyIn

    ids = []
    with store_session(url) as session:
        for c, company_in in enumerate(companies()):
            company = crud.upsert_company(session, company_in=CompanyIn.model_validate(company_in))
            spots = [(f"Stall {n}", str(300000 + c * SPOTS_EACH + n)) for n in range(SPOTS_EACH)]
            raw = json.dumps(spots).encode()
            stored = record_bench_request(session, company_name=company.name, spots=spots, raw=raw)
            ids.append(stored)
    return ids


def request_states(url: str) -> dict[str, int]:
    from collections import Counter

    from store import crud

    with store_session(url) as session:
        return dict(Counter(r.state.value for r in crud.list_requests(session)))


async def create_runs(api: str, deployment_id: str, request_ids: list[int]) -> list[str]:
    """Create every flow run at once, as intake does (one idempotency key per request)."""
    async with httpx.AsyncClient(base_url=api, timeout=60) as client:

        async def create(request_id: int) -> str:
            response = await client.post(
                f"/deployments/{deployment_id}/create_flow_run",
                json={
                    "parameters": {"request_id": request_id},
                    "idempotency_key": f"bench-many:{request_id}:{time.time()}",
                },
            )
            response.raise_for_status()
            run_id: str = response.json()["id"]
            return run_id

        return list(await asyncio.gather(*(create(i) for i in request_ids)))


def read_runs(api: str, ids: list[str]) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{api}/flow_runs/filter", json={"flow_runs": {"id": {"any_": ids}}}, timeout=30
    )
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def _deployment_id(api: str, name: str) -> str:
    response = httpx.get(f"{api}/deployments/name/{name}", timeout=10)
    response.raise_for_status()
    deployment_id: str = response.json()["id"]
    return deployment_id


def one_config(
    server: PrefectServer,
    sandbox: SandboxProcess,
    deployment_id: str,
    *,
    workers: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    sandbox.reset(rate_limit=RATE, delay=DELAY)
    with throwaway_postgres("hotspot_bench_many") as url, ExitStack() as stack:
        request_ids = store_requests(url)
        env = server.environment(
            OFFSTREET_DATABASE_URL=url,
            OFFSTREET_DATA_DIR=str(BENCH_DIR / "work" / "many"),
            HOTSPOT_API_URL=sandbox.url,
            PREFECT_WORKER_QUERY_SECONDS="1",
            PREFECT_WORKER_PREFETCH_SECONDS="1",
            HOTSPOT_RATE_LIMIT=str(RATE),  # every run of every worker together, in the store
        )
        pids = []
        for n in range(workers):
            log = BENCH_DIR / "logs" / f"many-{workers}-worker-{n}.log"
            process = worker(f"bench-worker-{n}", env=env, pool=POOL, limit=WORKER_LIMIT, log=log)
            pids.append(stack.enter_context(process).pid)
        time.sleep(8)  # the workers start and poll their pool
        cpu_before = {"server": tree_cpu_seconds(server.pid)}
        cpu_before["workers"] = sum(tree_cpu_seconds(pid) for pid in pids)
        started = time.time()
        run_ids = asyncio.run(create_runs(server.api_url, deployment_id, request_ids))
        peaks: dict[int, float] = {}
        runs: list[dict[str, Any]] = []
        deadline = time.monotonic() + CAP_S
        while time.monotonic() < deadline:
            for pid in pids:
                peaks[pid] = max(peaks.get(pid, 0.0), peak_rss_mib(pid))
                for child in descendants(pid):
                    peaks[child] = max(peaks.get(child, 0.0), peak_rss_mib(child))
            runs = read_runs(server.api_url, run_ids)
            if all(run["state_type"] in TERMINAL for run in runs):
                break
            time.sleep(0.5)
        finished = all(run["state_type"] in TERMINAL for run in runs)
        ends = [
            datetime.fromisoformat(run["end_time"]).timestamp() for run in runs if run["end_time"]
        ]
        elapsed = (max(ends, default=time.time()) if finished else time.time()) - started
        cpu = {
            "server": tree_cpu_seconds(server.pid) - cpu_before["server"],
            "workers": sum(tree_cpu_seconds(pid) for pid in pids) - cpu_before["workers"],
        }
        states = request_states(url)
    hotspot = sandbox.state()
    worker_rss = max((peaks[p] for p in pids), default=0.0)
    child_rss = max((v for p, v in peaks.items() if p not in pids), default=0.0)
    result = {
        "workers": workers,
        "elapsed_s": round(elapsed, 1),
        "bound_s": BOUND_S,
        "ratio": round(elapsed / BOUND_S, 2),
        "requests_per_min": round(60 * states.get("live", 0) / elapsed, 1),
        "spot_ids_per_min": round(60 * states.get("live", 0) * SPOTS_EACH / elapsed, 1),
        "request_states": states,
        "flow_run_states": sorted({run["state_name"] for run in runs}),
        "hotspot_requests": sum(sum(c.values()) for c in hotspot["requests"].values()),
        "hotspot_requests_by_route": {
            route: sum(statuses.values()) for route, statuses in hotspot["requests"].items()
        },
        "rate_limited_429": hotspot["rate_limited"],
        "max_requests_in_one_second": hotspot["max_requests_in_one_second"],
        "worker_peak_rss_mib": round(worker_rss, 1),
        "flow_run_process_peak_rss_mib": round(child_rss, 1),
        # CPU per run: the workers' trees (the worker, its warm starter, the runs' processes)
        # and the Prefect server; the store's PostgreSQL is not counted.
        "cpu_per_run_s": {name: round(seconds / COMPANIES, 2) for name, seconds in cpu.items()},
    }
    say(f"many requests, {workers} worker(s): {result}")
    return result


def measure(server: PrefectServer, *, say: Callable[[str], None]) -> list[Figure]:
    deployment = deploy_onboarding(server, pool=POOL)
    deployment_id = _deployment_id(server.api_url, deployment)
    figures = []
    with SandboxProcess() as sandbox:
        for workers in (1, 2):
            result = one_config(server, sandbox, deployment_id, workers=workers, say=say)
            all_live = result["request_states"] == {"live": COMPANIES}
            within = result["max_requests_in_one_second"] <= RATE
            near = workers < 2 or result["ratio"] <= TARGET_RATIO
            figures.append(
                Figure(
                    f"many requests at once ({COMPANIES} companies × {SPOTS_EACH} SpotIDs, "
                    f"{workers} worker{'s' if workers > 1 else ''})",
                    f"{result['requests_per_min']:.0f} requests/min "
                    f"({result['spot_ids_per_min']:.0f} SpotIDs/min), all in "
                    f"{result['elapsed_s']:.0f} s = {result['ratio']:.2f}× the bound of "
                    f"{BOUND_S:.0f} s; "
                    f"{'all live' if all_live else result['request_states']}; "
                    f"HotSpot peak {result['max_requests_in_one_second']}/s, "
                    f"{result['rate_limited_429']} 429s retried",
                    "all live, HotSpot's limit never exceeded"
                    + (f", ≤ {TARGET_RATIO}× bound" if workers >= 2 else ""),
                    all_live and within and near,
                    result,
                )
            )
    return figures
