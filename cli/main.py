"""`hotspot-onboard`: the operator's command line for the onboarding pipeline.

Exit codes: 0 done (live), 1 refused or failed (the reason is printed), 2 input unreadable,
3 not a SpotID request, 4 waiting on ops (what is needed and the command that continues).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlmodel import Session

from cli.output import print_outcome, print_status
from cli.sandbox import sandbox
from parsers import NotASpotIDRequest, SpotIDRequest, UnreadableInput, parse_any
from settings import settings
from store import crud
from store.db import migrate, session_scope
from store.models import WAITING_FOR_A_PERSON, OnboardingRequest, RequestState
from store.schemas import SeedFile
from trust import sender_authentication_off_warning

app = typer.Typer(help="Onboard customers' HotSpot SpotIDs into Offstreet.", no_args_is_help=True)
app.command(help="Run the HotSpot sandbox: a local HTTP server implementing HotSpot's API.")(
    sandbox
)
out = Console()
err = Console(stderr=True)

EXIT_REFUSED, EXIT_UNREADABLE, EXIT_NOT_A_REQUEST, EXIT_WAITING = 1, 2, 3, 4
EXIT_BY_STATE = {
    RequestState.live: 0,
    RequestState.waiting_on_ops: EXIT_WAITING,
    RequestState.needs_review: EXIT_WAITING,
    RequestState.held: EXIT_WAITING,
}


def fail(message: str, code: int) -> typer.Exit:
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def read_request(path: Path) -> tuple[bytes, SpotIDRequest]:
    """Read and parse an .eml or form .json file, or exit 2/3 with a one-line reason."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror or exc}", EXIT_UNREADABLE) from exc
    try:
        return raw, parse_any(raw)
    except UnreadableInput as exc:
        raise fail(f"cannot read {path}: {exc}", EXIT_UNREADABLE) from exc
    except NotASpotIDRequest as exc:
        raise fail(f"{path} is not a SpotID request: {exc}", EXIT_NOT_A_REQUEST) from exc


@app.command()
def parse(file: Path) -> None:
    """Print the SpotID request in FILE (.eml or form .json) as JSON."""
    _, request = read_request(file)
    typer.echo(request.model_dump_json(indent=2))


@app.command()
def seed(file: Path) -> None:
    """Create or update companies (contacts, domains, locations, token) from a JSON file."""
    try:
        seed_file = SeedFile.model_validate_json(file.read_bytes())
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}", EXIT_UNREADABLE) from exc
    except ValidationError as exc:
        raise fail(f"{file} is not a valid seed file: {exc}", EXIT_UNREADABLE) from exc
    migrate()
    with session_scope() as session:
        for company_in in seed_file.companies:
            crud.upsert_company(session, company_in=company_in)
    names = ", ".join(c.name for c in seed_file.companies)
    out.print(f"Seeded {len(seed_file.companies)} companies: {names}")


@app.command()
def token(company: str) -> None:
    """Store COMPANY's HotSpot token, read from stdin (never from the command line)."""
    if sys.stdin.isatty():
        err.print(f"Paste {company}'s HotSpot token, then press Enter:")
    secret = sys.stdin.readline().strip()
    if not secret:
        raise fail("no token on stdin; nothing stored", EXIT_REFUSED)
    migrate()
    with session_scope() as session:
        found = crud.get_company_by_name(session, name=company)
        if found is None:
            raise fail(f"no company named {company!r}; seed it first", EXIT_REFUSED)
        crud.set_company_token(session, company=found, token=secret)
    out.print(f"Stored {found.name}'s HotSpot token (encrypted).")


VerifyTimeout = Annotated[
    float | None,
    typer.Option(help="Seconds to wait for TEST123 in HotSpot (default: VERIFY_TIMEOUT_SECONDS)."),
]


@app.command()
def onboard(file: Path, verify_timeout: VerifyTimeout = None) -> None:
    """Run the onboarding flow for the request in FILE; the same FILE again continues it."""
    from tasks.intake import record_request

    raw, request = read_request(file)
    warn_if_senders_unauthenticated()
    migrate()
    request_id = record_request(raw, request)
    raise typer.Exit(run_onboarding(request_id, verify_timeout))


@app.command()
def retry(request_id: int, verify_timeout: VerifyTimeout = None) -> None:
    """Run a stored request's onboarding again; it continues where it stopped."""
    migrate()
    with session_scope() as session:
        try:
            crud.get_request(session, request_id=request_id)
        except LookupError as exc:
            raise fail(str(exc), EXIT_REFUSED) from exc
    raise typer.Exit(run_onboarding(request_id, verify_timeout))


def held_request(
    session: Session, request_id: int, *, states: tuple[RequestState, ...] = WAITING_FOR_A_PERSON
) -> OnboardingRequest:
    """The request, if it waits for a person's decision; otherwise exit 1 saying why."""
    try:
        request = crud.get_request(session, request_id=request_id)
    except LookupError as exc:
        raise fail(str(exc), EXIT_REFUSED) from exc
    if request.state not in states:
        raise fail(
            f"request {request_id} is {request.state.value}, not waiting for a decision",
            EXIT_REFUSED,
        )
    return request


@app.command()
def approve(
    request_id: int,
    company: Annotated[
        str | None, typer.Option(help="The company it is for (default: the sender's company).")
    ] = None,
    verify_timeout: VerifyTimeout = None,
) -> None:
    """Let a held request run (ops checked the sender), then run its onboarding."""
    migrate()
    with session_scope() as session:
        request = held_request(session, request_id)
        name = company or (
            crud.get_company(session, company_id=request.company_id).name
            if request.company_id
            else None
        )
        found = crud.get_company_by_name(session, name=name) if name else None
        if found is None:
            raise fail("name the company with --company (the sender is unknown)", EXIT_REFUSED)
        crud.approve_request(session, request=request, company=found)
    raise typer.Exit(run_onboarding(request_id, verify_timeout))


@app.command()
def reject(
    request_id: int, reason: Annotated[str, typer.Option(help="Why, for the record.")]
) -> None:
    """Refuse a request that waits on ops (held, unsure, or a question) for good."""
    migrate()
    with session_scope() as session:
        request = held_request(
            session, request_id, states=(*WAITING_FOR_A_PERSON, RequestState.waiting_on_ops)
        )
        crud.reject_by_ops(session, request=request, why=reason)
    out.print(f"Request {request_id} rejected.")


operator_app = typer.Typer(help="The HotSpot operators whose spots a company may map.")
app.add_typer(operator_app, name="operator")


@operator_app.command("add")
def operator_add(company: str, operator: str) -> None:
    """Let COMPANY map spots of HotSpot OPERATOR (as HotSpot writes it); then `retry`."""
    migrate()
    with session_scope() as session:
        found = crud.get_company_by_name(session, name=company)
        if found is None:
            raise fail(f"no company named {company!r}; seed it first", EXIT_REFUSED)
        added = crud.add_hotspot_operator(session, company=found, operator=operator)
        operators = ", ".join(found.hotspot_operators)
    verb = "Added" if added else "Already on file:"
    out.print(f"{verb} {operator!r} for {found.name} (operators: {operators}).", markup=False)


def warn_if_senders_unauthenticated() -> None:
    """One line while email senders are not authenticated (the embedded default)."""
    warning = sender_authentication_off_warning(settings.mail_trusted_authserv_ids)
    if warning:
        err.print(warning, markup=False, highlight=False, soft_wrap=True)


def run_onboarding(request_id: int, verify_timeout: float | None) -> int:
    """Run the flow in this process, print where the request stands, return the exit code."""
    from flows.onboard_request import onboard_request

    asyncio.run(onboard_request(request_id, verify_timeout, return_state=True))
    with session_scope() as session:
        outcome = crud.request_outcome(session, request_id=request_id)
    print_outcome(out, outcome)
    return EXIT_BY_STATE.get(RequestState(outcome.state), EXIT_REFUSED)


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show every integration with its mappings, and every request."""
    migrate()
    with session_scope() as session:
        report = crud.status_report(session)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        print_status(out, report)


@app.command()
def watch(
    once: Annotated[
        bool, typer.Option("--once", help="Take in what is there, finish its onboardings, exit.")
    ] = False,
) -> None:
    """Watch the mailbox (IMAP_*) and onboard each request that arrives."""
    from flows.watch_inbox import watch_inbox
    from inbox.imap import MailboxConfigError

    if not settings.imap_host or not settings.imap_user:
        raise fail("set IMAP_HOST and IMAP_USER (and IMAP_PASSWORD) to watch a mailbox", 1)
    warn_if_senders_unauthenticated()
    migrate()
    try:
        taken = asyncio.run(watch_inbox(once=once))
    except MailboxConfigError as exc:
        raise fail(str(exc), EXIT_REFUSED) from exc
    out.print(f"Took in {taken} messages.")


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Port of the Prefect server and its UI.")] = 4200,
    workers: Annotated[int, typer.Option(help="Process workers to start.")] = 1,
) -> None:
    """The whole stack on this machine: Prefect server and UI, worker, sandbox, watcher."""
    from cli.up import run_stack

    migrate()
    run_stack(out, port=port, workers=workers)


@app.command()
def demo() -> None:
    """Onboard the template email end to end against a local sandbox, on a fresh store."""
    from cli.demo import run_demo

    raise typer.Exit(run_demo(out))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (WEB_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (WEB_PORT).")] = None,
) -> None:
    """Run the customers' request form and the staff JSON API (FastAPI, uvicorn)."""
    from web.commands import serve as run_server

    warn_if_senders_unauthenticated()
    run_server(host=host or settings.web_host, port=port or settings.web_port)


@app.command("form-link")
def form_link(
    company: str,
    days: Annotated[
        float | None, typer.Option(help="Days the link is valid (default: FORM_LINK_DAYS).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Where the form is served (default: WEB_BASE_URL).")
    ] = None,
) -> None:
    """Print a signed, expiring link to COMPANY's request form, to send to its contact."""
    from web.commands import form_link as make_link

    link = make_link(company, days=days, base_url=base_url)
    if link is None:
        raise fail(f"no company named {company!r}; seed it first", EXIT_REFUSED)
    typer.echo(link)
