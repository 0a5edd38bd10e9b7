"""Bulk onboarding (500 SpotIDs under HotSpot's rate limit), orchestration overhead, and the store.

- bulk: one request with 500 SpotIDs, the sandbox limited to 20 req/s with a 5 s propagation
  delay. The bound is the fewest HotSpot requests the flow needs (per SpotID: the spot lookup
  that validates it, the TEST123 POST, one enforcement lookup, the DELETE that revokes it),
  divided by the rate, plus the delay.
- overhead: the same request with HotSpot answering at once; the wall time not covered by a
  HotSpot call in flight, per SpotID. Run on a SQLite and on a PostgreSQL store.
- pacing: a bulk request (120 SpotIDs by default) against each kind of rate limiter the
  sandbox has (sliding second, fixed one-second windows, token bucket; 20 req/s,
  `Retry-After: 1`), with no rate configured (the client learns it) and with HOTSPOT_RATE_LIMIT
  set to HotSpot's limit: wall time against the same bound as bulk, and the share of 429s.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH_DIR,
    REQUESTS_PER_SPOT,
    Figure,
    median,
    run_onboardings,
)
from stack.prefect import PrefectServer
from stack.sandbox import SandboxProcess
from testing.databases import throwaway_postgres

SPOTS = 500
RATE = 20.0
DELAY = 5.0
# HotSpot's limit is known, so ops set HOTSPOT_RATE_LIMIT to it; the client paces a little
# under it: at exactly the limit, arrival jitter puts a 21st request in some one-second window
# now and then, and each 429 holds every request of the key for its Retry-After (a second).
CLIENT = {"HOTSPOT_RATE_LIMIT": str(RATE)}
LIMITERS = ("sliding", "fixed", "token")
PACING_SPOTS = 120


def bulk_spec(count: int = SPOTS, *, first: int = 300000) -> dict[str, Any]:
    """One company with `count` stalls and one request mapping each to a Bench Parking spot."""
    stalls = [f"Stall {n}" for n in range(count)]
    return {
        "companies": [
            {
                "name": "Bulk Parking Co",
                "contacts": ["ops@bulk.example"],
                "locations": stalls,
                "hotspot_operators": ["Bench Parking", "Bench Secure"],
            }
        ],
        "requests": [
            {
                "company": "Bulk Parking Co",
                "spots": [[stall, str(first + n)] for n, stall in enumerate(stalls)],
            }
        ],
    }


class SQLiteStore:
    """A fresh SQLite store file per run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __enter__(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in self.directory.glob("store.db*"):
            old.unlink()
        return f"sqlite:///{self.directory / 'store.db'}"

    def __exit__(self, *exc: object) -> None:
        pass


def stores(kind: str, directory: Path) -> AbstractContextManager[str]:
    return SQLiteStore(directory) if kind == "sqlite" else throwaway_postgres("hotspot_bench")


def one_run(
    server: PrefectServer,
    sandbox: SandboxProcess,
    *,
    store: str,
    knobs: dict[str, float | str],
    name: str,
    spec: dict[str, Any],
    client: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One onboarding in a fresh process against a fresh store; its report and HotSpot's."""
    sandbox.reset(**knobs)
    directory = BENCH_DIR / "work" / name
    with stores(store, directory) as url:
        env = server.environment(
            OFFSTREET_DATABASE_URL=url,
            OFFSTREET_DATA_DIR=str(directory),
            HOTSPOT_API_URL=sandbox.url,
            **(client or {}),
        )
        result = run_onboardings(spec, env=env, log=BENCH_DIR / "logs" / f"{name}.log")
    result["hotspot"] = {k: v for k, v in sandbox.state().items() if k != "permits"}
    return result


def measure_bulk(
    server: PrefectServer, sandbox: SandboxProcess, *, runs: int, say: Callable[[str], None]
) -> list[Figure]:
    """Bulk wall time against the bound, and the flow process's peak RSS."""
    bound = SPOTS * REQUESTS_PER_SPOT / RATE + DELAY
    ratios, walls, rss, details = [], [], [], []
    unhandled = 0
    for n in range(runs):
        result = one_run(
            server,
            sandbox,
            store="sqlite",
            knobs={"rate_limit": RATE, "delay": DELAY},
            name=f"bulk-{n}",
            spec=bulk_spec(),
            client=CLIENT,
        )
        run = result["runs"][0]
        hotspot = result["hotspot"]
        sent = sum(sum(codes.values()) for codes in hotspot["requests"].values())
        live = run["state"] == "live"
        unhandled += not live
        walls.append(run["wall"])
        ratios.append(run["wall"] / bound)
        rss.append(result["peak_rss_mib"])
        details.append(
            {
                "wall_s": round(run["wall"], 2),
                "state": run["state"],
                "requests_sent": sent,
                "rate_limited_429": hotspot["rate_limited"],
                "max_requests_in_one_second": hotspot["max_requests_in_one_second"],
                "lookups": sum(hotspot["lookups"].values()),
                "peak_rss_mib": round(result["peak_rss_mib"], 1),
            }
        )
        say(f"bulk run {n + 1}/{runs}: {details[-1]}")
    ratio = median(ratios)
    return [
        Figure(
            "bulk onboarding (500 SpotIDs, 20 req/s, D = 5 s)",
            f"{median(walls):.1f} s = {ratio:.2f}× bound {bound:.0f} s; "
            f"{sum(d['rate_limited_429'] for d in details)} 429s, all retried"
            if not unhandled
            else f"{median(walls):.1f} s = {ratio:.2f}× bound; {unhandled} runs not live",
            "≤ 1.25× bound, no 429 unhandled",
            ratio <= 1.25 and not unhandled,
            {"bound_s": bound, "runs": details},
        ),
        Figure(
            "peak RSS of a worker's flow run (bulk)",
            f"{median(rss):.0f} MiB",
            "report",
            None,
            {"runs_mib": [round(r, 1) for r in rss]},
        ),
    ]


def measure_overhead(
    server: PrefectServer, sandbox: SandboxProcess, *, runs: int, say: Callable[[str], None]
) -> list[Figure]:
    """Time per SpotID outside HotSpot calls, on SQLite and on PostgreSQL."""
    figures = []
    per_store: dict[str, float] = {}
    for store in ("sqlite", "postgresql"):
        per_spot, details = [], []
        for n in range(runs):
            result = one_run(
                server,
                sandbox,
                store=store,
                knobs={},
                name=f"overhead-{store}-{n}",
                spec=bulk_spec(),
            )
            run = result["runs"][0]
            outside = run["wall"] - run["hotspot_busy"]
            per_spot.append(outside / SPOTS * 1000)
            details.append(
                {
                    "wall_s": round(run["wall"], 2),
                    "hotspot_busy_s": round(run["hotspot_busy"], 2),
                    "outside_ms_per_spot": round(per_spot[-1], 2),
                    "state": run["state"],
                    "calls": result["calls"],
                }
            )
            say(f"overhead {store} run {n + 1}/{runs}: {details[-1]}")
        per_store[store] = median(per_spot)
        if store == "sqlite":
            figures.append(
                Figure(
                    "orchestration overhead (500 SpotIDs, HotSpot instant, SQLite store)",
                    f"{per_store[store]:.1f} ms per SpotID outside HotSpot calls",
                    "≤ 20 ms per SpotID",
                    per_store[store] <= 20,
                    {"runs": details},
                )
            )
        else:
            figures.append(
                Figure(
                    "store: SQLite vs PostgreSQL (same run, overhead per SpotID)",
                    f"SQLite {per_store['sqlite']:.1f} ms, PostgreSQL {per_store[store]:.1f} ms "
                    f"({per_store[store] / per_store['sqlite']:.2f}×)",
                    "report",
                    None,
                    {"postgresql_runs": details},
                )
            )
    return figures


def measure_pacing(
    server: PrefectServer,
    sandbox: SandboxProcess,
    *,
    spots: int = PACING_SPOTS,
    say: Callable[[str], None],
) -> list[Figure]:
    """Bulk wall time and 429s against each limiter kind, unconfigured and configured."""
    bound = spots * REQUESTS_PER_SPOT / RATE + DELAY
    figures = []
    for configured in (False, True):
        ratios, shares, details = [], [], []
        for kind in LIMITERS:
            result = one_run(
                server,
                sandbox,
                store="sqlite",
                knobs={"rate_limit": RATE, "delay": DELAY, "rate_limiter": kind},
                name=f"pacing-{kind}-{'configured' if configured else 'learned'}",
                spec=bulk_spec(spots),
                client=CLIENT if configured else {"HOTSPOT_RATE_LIMIT": "0"},
            )
            run, hotspot = result["runs"][0], result["hotspot"]
            sent = sum(sum(codes.values()) for codes in hotspot["requests"].values())
            ratios.append(run["wall"] / bound)
            shares.append(hotspot["rate_limited"] / max(1, sent))
            details.append(
                {
                    "limiter": kind,
                    "wall_s": round(run["wall"], 2),
                    "ratio": round(ratios[-1], 3),
                    "state": run["state"],
                    "requests_sent": sent,
                    "rate_limited_429": hotspot["rate_limited"],
                    "max_requests_in_one_second": hotspot["max_requests_in_one_second"],
                }
            )
            say(f"pacing ({'configured' if configured else 'no rate set'}): {details[-1]}")
        ratio_target, share_target = (1.1, 0.01) if configured else (1.25, 0.02)
        all_live = all(d["state"] == "live" for d in details)
        measured = "; ".join(
            f"{d['limiter']} {d['ratio']:.2f}×, {d['rate_limited_429']}×429 of "
            f"{d['requests_sent']} ({share:.1%})"
            for d, share in zip(details, shares, strict=True)
        )
        figures.append(
            Figure(
                f"pacing ({spots} SpotIDs, 20 req/s, D = 5 s, "
                f"{'HOTSPOT_RATE_LIMIT=20' if configured else 'no rate configured'})",
                f"{measured}; bound {bound:.0f} s" + ("" if all_live else "; not all live"),
                f"≤ {ratio_target}× bound, ≤ {share_target:.0%} 429s, each limiter",
                all_live and max(ratios) <= ratio_target and max(shares) <= share_target,
                {"bound_s": bound, "runs": details},
            )
        )
    return figures
