"""`python -m bench` (`make bench`): every benchmark, one table, the numbers in .data/bench/.

One Prefect server on a throwaway PostgreSQL database serves every benchmark, as it would in
production. The D = 60 s verification-lag runs (a minute of waiting on the sandbox's
propagation delay) go on in the background while the short lag runs, the parse and the intake
benchmarks run; the overhead, bulk and many-requests benchmarks have the machine to themselves.

Options: `--only NAME[,NAME]` (parse, hostile, corpus, intake, lag, overhead, bulk, pacing,
many, health); `--runs N` and `--bulk-runs N`, the repetitions of the overhead (per store) and
bulk benchmarks; `--pacing-spots N`, the size of each pacing run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict

from bench import bulk, corpus, health, intake, many, parse_cost, parse_hostile, verify_lag
from bench.common import BENCH_DIR, Figure, machine
from stack.prefect import PrefectServer, asyncpg_url
from stack.sandbox import SandboxProcess
from testing.databases import throwaway_postgres

ALL = (
    "parse", "hostile", "corpus", "intake", "lag", "overhead", "bulk", "pacing", "many", "health"
)  # fmt: skip
# The table's order: the issue's, then what is reported without a target.
ORDER = (
    "intake",
    "parse",
    "verification",
    "bulk",
    "pacing",
    "orchestration",
    "many",
    "health",
    "store",
    "peak",
)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def table(figures: list[Figure]) -> str:
    """The figures as a Markdown table (figure | measured | target | pass)."""
    rows = [("figure", "measured", "target", "pass"), ("---",) * 4]
    ranked = sorted(
        figures, key=lambda f: next((i for i, p in enumerate(ORDER) if f.name.startswith(p)), 99)
    )
    for figure in ranked:
        verdict = {True: "yes", False: "**no**", None: "–"}[figure.passed]
        rows.append((figure.name, figure.measured, figure.target, verdict))
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def run(only: set[str], *, runs: int, bulk_runs: int, pacing_spots: int) -> list[Figure]:
    figures: list[Figure] = []
    if only <= {"parse", "hostile", "corpus"}:  # the parser alone: no servers to start
        if "parse" in only:
            figures += parse_cost.measure(say=say)
        if "hostile" in only:
            figures += parse_hostile.measure(say=say)
        if "corpus" in only:
            figures += corpus.measure(say=say)
        return figures
    for stale in ("work", "logs"):  # each run's stores and logs, from a clean slate
        shutil.rmtree(BENCH_DIR / stale, ignore_errors=True)
    with (
        throwaway_postgres("hotspot_bench_prefect") as prefect_db,
        PrefectServer(
            home=BENCH_DIR / "prefect",
            database_url=asyncpg_url(prefect_db),
            log=BENCH_DIR / "logs" / "prefect-server.log",
        ) as server,
        SandboxProcess() as sandbox,
        ThreadPoolExecutor(1) as background,
    ):
        say(f"Prefect server at {server.api_url}; sandbox at {sandbox.url}")
        # The D = 60 s lag runs take a minute of waiting: they go on in the background while
        # the short ones (alone), then the parse and intake benchmarks run. Lag is sensitive to
        # a loaded CPU (late wake-ups), so the CPU-heavy overhead runs wait for it.
        slow: Future[list[Figure]] | None = None
        if "lag" in only:
            say("verification lag: D = 60 s in the background, then D = 5 and 20 s")
            slow = background.submit(verify_lag.measure, server, say=say, delays=[60.0])
            figures += verify_lag.measure(server, say=say, delays=[5.0, 20.0])
        if "parse" in only:
            say("parse cost")
            figures += parse_cost.measure(say=say)
        if "hostile" in only:
            say("parse time of hostile bodies")
            figures += parse_hostile.measure(say=say)
        if "corpus" in only:
            figures += corpus.measure(say=say)
        if "intake" in only:
            say("intake latency")
            figures += intake.measure(server, hotspot_url=sandbox.url, say=say)
        if slow is not None:
            figures += slow.result()
        if "overhead" in only:
            say("orchestration overhead")
            figures += bulk.measure_overhead(server, sandbox, runs=runs, say=say)
        if "bulk" in only:
            say("bulk onboarding")
            figures += bulk.measure_bulk(server, sandbox, runs=bulk_runs, say=say)
        if "pacing" in only:
            say("pacing against each limiter kind")
            figures += bulk.measure_pacing(server, sandbox, spots=pacing_spots, say=say)
        if "many" in only:
            say("many requests at once")
            figures += many.measure(server, say=say)
        if "health" in only:
            say("health check of live integrations")
            figures += health.measure(server, sandbox, say=say)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated: " + ", ".join(ALL))
    parser.add_argument("--runs", type=int, default=3, help="overhead runs per store")
    parser.add_argument("--bulk-runs", type=int, default=2, help="bulk onboarding runs")
    parser.add_argument(
        "--pacing-spots", type=int, default=bulk.PACING_SPOTS, help="SpotIDs per pacing run"
    )
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    if unknown := only - set(ALL):
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    started = time.monotonic()
    about = machine()
    figures = run(only, runs=args.runs, bulk_runs=args.bulk_runs, pacing_spots=args.pacing_spots)
    elapsed = time.monotonic() - started
    print()
    print(
        f"Machine: {about['cores']} cores, {about['ram_gib']} GiB RAM, Python {about['python']}, "
        f"{about['os']}; {about['date']}; all benchmarks took {elapsed / 60:.1f} min"
    )
    print()
    print(table(figures))
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results = {
        "machine": about,
        "elapsed_s": round(elapsed, 1),
        "figures": [asdict(f) for f in figures],
    }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for path in (BENCH_DIR / f"results-{stamp}.json", BENCH_DIR / "results.json"):
        path.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nNumbers behind the table: {BENCH_DIR / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
