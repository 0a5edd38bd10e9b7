"""`hotspot-onboard demo`: the whole job on embedded defaults, as ops would live it.

The command starts the sandbox, then runs the demo in a process of its own (`python -m
cli.demo`), whose environment points the store at `.data/demo` and HotSpot at the sandbox: this
process's settings are read, never changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from rich.console import Console
from rich.rule import Rule

from cli.onboarding import EXIT_WAITING, run_onboarding
from cli.output import console as plain_console
from cli.output import print_status
from parsers import parse_any
from settings import PROJECT_DIR, settings
from stack.sandbox import SandboxProcess
from store import crud
from store.db import migrate, session_scope
from store.models import RequestState
from store.schemas import SeedFile

DEMO_DIR = PROJECT_DIR / "demo"
# HotSpot as it behaves in real life: a few seconds to show a permit, and the odd fault.
SANDBOX_KNOBS = {"delay": 2.0, "error_rate": 0.05, "lost_response_rate": 0.05}
VERIFY_TIMEOUT = 10.0


def run_demo(console: Console) -> int:
    """Start the sandbox, run the demo against it on a fresh store; 0 when the request is live."""
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()  # the command's server, local or yours
    data_dir = settings.data_dir / "demo"
    shutil.rmtree(data_dir, ignore_errors=True)
    with SandboxProcess() as sandbox:
        sandbox.configure(**SANDBOX_KNOBS)
        console.print(Rule("HotSpot sandbox"))
        console.print(f"{sandbox.url} · propagation delay 2 s · 5% errors · 5% lost responses")
        demo = os.environ | {
            "OFFSTREET_DATA_DIR": str(data_dir),
            "OFFSTREET_DATABASE_URL": f"sqlite:///{data_dir / 'offstreet.db'}",
            "HOTSPOT_API_URL": sandbox.url,
        }
        demo |= {"PREFECT_API_URL": api} if api else {}
        code = subprocess.run([sys.executable, "-m", "cli.demo"], env=demo).returncode
        calls = sum(sum(codes.values()) for codes in sandbox.state()["requests"].values())
        console.print(f"HotSpot calls made: {calls} (faults included); store: {data_dir}")
    return code


def onboard_demo(console: Console) -> int:
    """Seed, onboard the template email, answer the token question, retry; 0 when live."""
    from flows.questions import store_token
    from tasks.intake import record_request

    console.print(Rule("1. Seed the demo company (hotspot-onboard seed demo/companies.json)"))
    migrate()
    seed = SeedFile.model_validate_json((DEMO_DIR / "companies.json").read_bytes())
    with session_scope() as session:
        crud.seed_companies(session, companies=seed.companies)
    console.print(", ".join(c.name for c in seed.companies))

    console.print(Rule("2. Onboard the template email (hotspot-onboard onboard demo/request.eml)"))
    raw = (DEMO_DIR / "request.eml").read_bytes()
    request_id = record_request(raw, parse_any(raw))
    if run_onboarding(console, console, request_id, VERIFY_TIMEOUT) == EXIT_WAITING:
        console.print(
            Rule('3. Ops give the token (hotspot-onboard token "Acme Parking" < token.txt)')
        )
        token = (DEMO_DIR / "acme-hotspot-token.txt").read_text().strip()
        with session_scope() as session:
            company = crud.get_company_by_name(session, name="Acme Parking")
            assert company is not None
            waiting = [request.id or 0 for request in store_token(session, company, token)]
        console.print(
            "Stored Acme Parking's HotSpot token (encrypted); the request waiting on it goes on:"
        )
        for waiting_id in waiting:
            run_onboarding(console, console, waiting_id, VERIFY_TIMEOUT)

    console.print(Rule("Where everything stands (hotspot-onboard status)"))
    with session_scope() as session:
        report = crud.status_report(session)
    print_status(console, report)
    live = report.requests[-1].state == RequestState.live
    return 0 if live else 1


if __name__ == "__main__":
    raise SystemExit(onboard_demo(plain_console()))
