"""The health check: HotSpot calls per healthy SpotID, and the wall time of a whole check.

N SpotIDs of one company are made live in a fresh SQLite store (directly, as onboarding would
leave them), then `python -m bench.health` checks them all in a fresh process against the
sandbox limited to 20 req/s (the client paced a little under it, as ops configure it), as the
daily deployment does. The calls are counted by the sandbox; the bound is calls / rate (the
rate limit is the only thing that should make a check of many SpotIDs slow).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.bulk import CLIENT, RATE, stores
from bench.common import BENCH_DIR, Figure, record_bench_request, store_session
from settings import PROJECT_DIR
from stack.prefect import PrefectServer
from stack.sandbox import SandboxProcess

SPOTS = 1000  # the figure: 1,000 mappings at 20 req/s
FIRST = 300000  # the sandbox's Bench Parking range
CALLS_TARGET = 4.0  # spot, canary push, one lookup, revoke
COMPANY = "Health Parking"


def make_live(url: str, count: int) -> None:
    """One company with `count` SpotIDs live in the store at `url`."""
    from store import crud
    from store.models import MappingState
    from store.schemas import CompanyIn

    stalls = [f"Stall {n}" for n in range(count)]
    company_in = CompanyIn(
        name=COMPANY,
        contacts=["ops@health.example"],
        locations=stalls,
        hotspot_operators=["Bench Parking"],
    )
    with store_session(url) as session:
        crud.seed_companies(session, companies=[company_in])
        spots = [(stall, str(FIRST + n)) for n, stall in enumerate(stalls)]
        request_id = record_bench_request(session, company_name=COMPANY, spots=spots, raw=b"{}")
        company = crud.get_company_by_name(session, name=COMPANY)
        assert company is not None and company.id is not None
        integration, _ = crud.ensure_integration(session, company_id=company.id)
        ids = {
            location.name: location.id or 0
            for location in crud.company_locations(session, company=company)
        }
        mapped = crud.claim_mappings(
            session,
            company_id=company.id,
            integration_id=integration.id or 0,
            request_id=request_id,
            wanted=[(ids[stall], spot_id) for stall, spot_id in spots],
        )
        for mapping in mapped.values():
            assert mapping is not None
            crud.set_mapping_state(
                session,
                mapping_id=mapping.id or 0,
                state=MappingState.live,
                expected=(MappingState.mapped,),
            )
        crud.mark_integration_live(session, integration_id=integration.id or 0)


def measure(
    server: PrefectServer, sandbox: SandboxProcess, *, say: Callable[[str], None]
) -> list[Figure]:
    """Calls per healthy SpotID, and a check of SPOTS SpotIDs against the calls/rate bound."""
    sandbox.reset(rate_limit=RATE)
    directory = BENCH_DIR / "work" / "health"
    with stores("sqlite", directory) as url:
        make_live(url, SPOTS)
        env = server.environment(
            OFFSTREET_DATABASE_URL=url,
            OFFSTREET_DATA_DIR=str(directory),
            HOTSPOT_API_URL=sandbox.url,
            **CLIENT,
        )
        log = BENCH_DIR / "logs" / "health.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as errors:
            done = subprocess.run(
                [sys.executable, "-m", "bench.health"],
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
                cwd=PROJECT_DIR,
                timeout=900,
            )
        if done.returncode != 0:
            raise RuntimeError(f"bench.health exited {done.returncode}; see {log}")
        result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    hotspot = sandbox.state()
    # What the check needed: every answered call (a 429 is the limit's, retried, not the check's).
    calls = sum(sum(codes.values()) for codes in hotspot["requests"].values())
    calls -= hotspot["rate_limited"]
    per_spot = calls / SPOTS
    bound = calls / RATE
    ratio = result["wall"] / bound
    say(f"health check: {result}, {calls} calls, {hotspot['rate_limited']} 429s")
    details = {
        "spots": SPOTS,
        "healthy": result["healthy"],
        "calls": calls,
        "wall_s": round(result["wall"], 2),
        "bound_s": bound,
        "rate_limited_429": hotspot["rate_limited"],
        "max_requests_in_one_second": hotspot["max_requests_in_one_second"],
    }
    unhealthy = SPOTS - result["healthy"]
    all_healthy = not unhealthy
    return [
        Figure(
            "health check: HotSpot calls per healthy SpotID",
            f"{per_spot:.2f}" + ("" if all_healthy else f" ({unhealthy} unhealthy)"),
            f"≤ {CALLS_TARGET:.0f}",
            per_spot <= CALLS_TARGET and all_healthy,
            details,
        ),
        Figure(
            f"health check of {SPOTS} SpotIDs at {RATE:.0f} req/s",
            f"{result['wall']:.1f} s = {ratio:.2f}× bound {bound:.0f} s (calls / rate); "
            f"{hotspot['rate_limited']} 429s, all retried",
            "≤ 1.25× bound",
            ratio <= 1.25 and all_healthy,
            details,
        ),
    ]


async def check_all() -> dict[str, Any]:
    """The check as the deployment runs it, timed (in the fresh process)."""
    from flows.check_health import check_integration_health

    start = time.monotonic()
    findings = await check_integration_health()
    wall = time.monotonic() - start
    healthy = sum(f.checked and f.problem is None for f in findings)
    return {"wall": wall, "checked": len(findings), "healthy": healthy}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(asyncio.run(check_all())) + "\n")
