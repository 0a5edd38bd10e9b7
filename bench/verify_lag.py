"""Verification lag: from the moment TEST123 became visible to the lookup that saw it.

One sandbox per propagation delay D (5, 20, 60 s), so they can run at once, each with its own
onboarding process; in each, RUNS[D] one-SpotID requests run concurrently, two seconds apart.
The sandbox says when each permit became visible (`visible_at`), the store when the flow saw
it; the sandbox also counts the enforcement lookups per SpotID.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from bench.common import BENCH_DIR, Figure, median, run_onboardings
from stack.prefect import PrefectServer
from stack.sandbox import SandboxProcess

RUNS = {5.0: 5, 20.0: 4, 60.0: 3}
MAX_LOOKUPS_AT_60 = 8


def lag_budget(delay: float) -> float:
    return 0.1 * delay + 1.0


def spec(delay: float, runs: int) -> dict[str, Any]:
    stalls = {f"Stall {n}": str(300900 + n) for n in range(runs)}
    return {
        "companies": [
            {
                "name": "Lag Parking Co",
                "contacts": ["ops@lag.example"],
                "locations": list(stalls),
                "hotspot_operators": ["Bench Parking"],
            }
        ],
        "requests": [
            {"company": "Lag Parking Co", "spots": [[stall, spot]]}
            for stall, spot in stalls.items()
        ],
        "stagger": 2.0,
        "verify_timeout": max(120.0, 2 * delay),
    }


def _one_delay(server: PrefectServer, delay: float, runs: int) -> dict[str, Any]:
    directory = BENCH_DIR / "work" / f"lag-{delay:.0f}"
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("store.db*"):
        old.unlink()
    with SandboxProcess() as sandbox:
        sandbox.reset(delay=delay)
        env = server.environment(
            OFFSTREET_DATABASE_URL=f"sqlite:///{directory / 'store.db'}",
            OFFSTREET_DATA_DIR=str(directory),
            HOTSPOT_API_URL=sandbox.url,
        )
        result = run_onboardings(
            spec(delay, runs), env=env, log=BENCH_DIR / "logs" / f"lag-{delay:.0f}.log"
        )
        result["hotspot"] = sandbox.state()
    return result


def _lags(result: dict[str, Any]) -> list[dict[str, Any]]:
    sandbox = {p["permit_id"]: p for p in result["hotspot"]["permits"]}
    rows = []
    for permit in result["permits"]:
        shown = sandbox.get(permit["hotspot_permit_id"] or "")
        if shown is None or not shown["visible_at"] or not permit["visible_at"]:
            rows.append({"spot_id": permit["spot_id"], "lag_s": None})
            continue
        lag = datetime.fromisoformat(permit["visible_at"]) - datetime.fromisoformat(
            shown["visible_at"]
        )
        rows.append(
            {
                "spot_id": permit["spot_id"],
                "lag_s": round(lag.total_seconds(), 3),
                "lookups": result["hotspot"]["lookups"].get(permit["spot_id"], 0),
            }
        )
    return rows


def measure(
    server: PrefectServer, *, say: Callable[[str], None], delays: list[float]
) -> list[Figure]:
    """The lag figures for these delays, measured at once (one sandbox and process each)."""
    with ThreadPoolExecutor(len(delays)) as pool:
        futures = {d: pool.submit(_one_delay, server, d, RUNS[d]) for d in delays}
        results = {d: future.result() for d, future in futures.items()}
    figures = []
    for delay, result in results.items():
        rows = _lags(result)
        lags = [row["lag_s"] for row in rows if row["lag_s"] is not None]
        lookups = [row["lookups"] for row in rows if row["lag_s"] is not None]
        missing = len(rows) - len(lags)
        requests = result["hotspot"]["requests"]
        status_polls = sum(requests.get("GET /v1/permits/{permit_id}", {}).values())
        budget = lag_budget(delay)
        lag, looks = median(lags), median(lookups)
        passed = not missing and lag <= budget
        target = f"lag ≤ {budget:.1f} s"
        if delay == 60.0:
            passed = passed and looks <= MAX_LOOKUPS_AT_60
            target += f", ≤ {MAX_LOOKUPS_AT_60} lookups per SpotID"
        say(f"verification lag D={delay:.0f}: {rows}")
        figures.append(
            Figure(
                f"verification lag (D = {delay:.0f} s, {len(rows)} runs)",
                f"lag {lag:.2f} s (max {max(lags, default=float('nan')):.2f}), "
                f"{looks:.0f} lookups per SpotID" + (f"; {missing} never seen" if missing else ""),
                target,
                passed,
                {"runs": rows, "permit_status_polls": status_polls},
            )
        )
    return figures
