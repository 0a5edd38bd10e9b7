"""Run onboardings in this (fresh) process, as a worker would, and report what they took.

`python -m bench.runner < spec.json` — the store, HotSpot and Prefect come from the
environment (OFFSTREET_DATABASE_URL, HOTSPOT_API_URL, PREFECT_API_URL). The spec names the
companies to seed and the requests to onboard; they run concurrently, each started
`stagger` seconds after the one before. One JSON line on stdout: per request its state, wall
time and the time HotSpot calls were in flight; the permits as the store recorded them; this
process's peak RSS.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any

import httpx

from bench.common import record_bench_request
from tasks.policy import wired_hotspot

CALLS: list[tuple[float, float]] = []  # (start, end) of every HotSpot HTTP exchange


class TimingTransport(httpx.AsyncHTTPTransport):
    """Notes when each HotSpot request was sent and when its response was read."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        start = time.monotonic()
        try:
            response = await super().handle_async_request(request)
            await response.aread()
            return response
        finally:
            CALLS.append((start, time.monotonic()))


def busy_time(start: float, end: float) -> float:
    """Seconds within [start, end] during which at least one HotSpot call was in flight."""
    total, reach = 0.0, start
    for begin, finish in sorted(CALLS):
        begin, finish = max(begin, reach), min(finish, end)
        if finish > begin:
            total += finish - begin
            reach = finish
    return total


def seed(spec: dict[str, Any]) -> list[int]:
    """Create the companies and store the requests; their ids."""
    from store import crud
    from store.db import migrate, session_scope
    from store.schemas import CompanyIn

    migrate()
    ids = []
    with session_scope() as session:
        crud.seed_companies(session, companies=map(CompanyIn.model_validate, spec["companies"]))
        for wanted in spec["requests"]:
            spots = [(location, spot_id) for location, spot_id in wanted["spots"]]
            raw = json.dumps(wanted).encode()
            ids.append(
                record_bench_request(session, company_name=wanted["company"], spots=spots, raw=raw)
            )
    return ids


async def onboard(request_id: int, delay: float, verify_timeout: float | None) -> dict[str, Any]:
    from flows.onboard_request import onboard_request

    await asyncio.sleep(delay)
    start, wall_start = time.monotonic(), time.time()
    await onboard_request(request_id, verify_timeout, return_state=True)
    end = time.monotonic()
    return {
        "request_id": request_id,
        "started": wall_start,
        "wall": end - start,
        "hotspot_busy": busy_time(start, end),
    }


def report(runs: list[dict[str, Any]]) -> dict[str, Any]:
    from store import crud
    from store.db import session_scope

    permits = []
    with session_scope() as session:
        for run in runs:
            request = crud.get_request(session, request_id=run["request_id"])
            run["state"] = request.state.value
            run["reason"] = request.reason
            for mapping in crud.request_mappings(session, request_id=run["request_id"]):
                permits += [
                    {
                        "spot_id": permit.spot_id,
                        "hotspot_permit_id": permit.hotspot_permit_id,
                        "state": permit.state.value,
                        "visible_at": permit.visible_at.isoformat() if permit.visible_at else None,
                    }
                    for permit in crud.permits_for_spot(session, spot_id=mapping.spot_id)
                ]
    return {
        "runs": runs,
        "permits": permits,
        "calls": len(CALLS),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    ids = seed(spec)
    stagger, timeout = spec.get("stagger", 0.0), spec.get("verify_timeout")
    with wired_hotspot(transport=TimingTransport):  # every client the tasks make is timed
        runs = await asyncio.gather(
            *(onboard(request_id, i * stagger, timeout) for i, request_id in enumerate(ids))
        )
    return report(list(runs))


if __name__ == "__main__":
    result = asyncio.run(main(json.load(sys.stdin)))
    sys.stdout.write(json.dumps(result) + "\n")
