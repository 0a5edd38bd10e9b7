"""`hotspot-onboard`: the operator's command line for the onboarding pipeline.

Exit codes: 0 done (live), 1 refused or failed (the reason is printed), 2 input unreadable,
3 not a SpotID request, 4 waiting on ops (what is needed and the command that continues).
"""

from __future__ import annotations

import asyncio
import getpass
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlmodel import Session

from cli.onboarding import (
    EXIT_DONE,
    EXIT_NOT_A_REQUEST,
    EXIT_REFUSED,
    EXIT_UNREADABLE,
    EXIT_WAITING,
    run_onboarding,
)
from cli.output import console, print_status
from cli.prefect_api import prefect_api
from cli.server import automations, server_app
from cli.up import up
from hotspot_sandbox.command import sandbox
from parsers import NotASpotIDRequest, SpotIDRequest, UnreadableInput, parse_any
from settings import MAX_FORM_LINK_DAYS, settings
from stack.process import StackError
from store import crud
from store.db import migrate, session_scope
from store.models import (
    AWAITING_APPROVAL,
    WAITING_ON_A_PERSON,
    Confirmer,
    OnboardingRequest,
    RequestState,
)
from store.schemas import SeedFile
from trust import sender_authentication_off_warning
from trust.ownership import operates

app = typer.Typer(
    help="Onboard customers' HotSpot SpotIDs into Offstreet.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback's locals may hold a token or a key
)
app.command(help="Run the HotSpot sandbox: a local HTTP server implementing HotSpot's API.")(
    sandbox
)
app.command()(up)
app.command()(automations)
app.add_typer(server_app, name="server")
out = console()
err = console(stderr=True)
# The commands that run no flow; every other one gets a Prefect API before it starts.
NO_FLOWS = {"parse", "seed", "status", "form-link", "sandbox", "up", "automations", "server"}


@app.callback()
def use_prefect_api(ctx: typer.Context) -> None:
    """PREFECT_API_URL, or the data dir's local Prefect server, for the commands that run flows."""
    if ctx.invoked_subcommand not in NO_FLOWS:
        try:
            ctx.with_resource(prefect_api())
        except (StackError, OSError) as exc:
            raise fail(f"no Prefect API: {exc}", EXIT_REFUSED) from exc


def fail(message: str, code: int) -> typer.Exit:
    err.print(message, highlight=False, soft_wrap=True)
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
        crud.seed_companies(session, companies=seed_file.companies)
    names = ", ".join(c.name for c in seed_file.companies)
    out.print(f"Seeded {len(seed_file.companies)} companies: {names}")


@app.command()
def token(company: str) -> None:
    """Store COMPANY's HotSpot token, read from stdin (never from the command line), and
    continue every request of the company that waited on it."""
    from flows.questions import store_token

    if sys.stdin.isatty():  # typed at a terminal: not echoed
        secret = getpass.getpass(f"Paste {company}'s HotSpot token, then press Enter: ").strip()
    else:
        secret = sys.stdin.readline().strip()
    if not secret:
        raise fail("no token on stdin; nothing stored", EXIT_REFUSED)
    migrate()
    with session_scope() as session:
        found = crud.get_company_by_name(session, name=company)
        if found is None:
            raise fail(f"no company named {company!r}; seed it first", EXIT_REFUSED)
        waiting = [request.id or 0 for request in store_token(session, found, secret)]
    out.print(f"Stored {found.name}'s HotSpot token (encrypted).", markup=False)
    if not waiting:
        err.print(
            f"No request of {found.name} waited on its token: it was answered already (by ops, "
            "or by the customer on the token link).",
            markup=False,
        )
    raise typer.Exit(continue_requests(waiting))


def continue_requests(request_ids: list[int]) -> int:
    """Continue each request an answer let go on; the first exit code that is not 0."""
    codes = [run_onboarding(out, err, request_id, None) for request_id in request_ids]
    return next((code for code in codes if code != EXIT_DONE), EXIT_DONE)


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
    if request.kind == "status_question":
        raise typer.Exit(answer_question(request_id))
    raise typer.Exit(run_onboarding(out, err, request_id, verify_timeout))


def answer_question(request_id: int) -> int:
    """A status question is answered (as the watcher does), never onboarded: 0 answered or
    not answerable here, 4 held (its sender is not proven)."""
    from tasks.replies import answer_status_question

    with session_scope() as session:
        state = crud.get_request(session, request_id=request_id).state
    if state != RequestState.status_question:
        err.print(f"Request {request_id}: a status question, held: {state.value}", markup=False)
        return EXIT_WAITING
    sent = asyncio.run(answer_status_question(request_id))
    out.print(
        f"Request {request_id}: a status question, "
        + ("answered by email." if sent else "not answered (no SMTP_HOST, or answered before)."),
        markup=False,
    )
    return EXIT_DONE


@app.command()
def confirm(request_id: int, verify_timeout: VerifyTimeout = None) -> None:
    """Confirm every SpotID Offstreet proposed for REQUEST (a contact who did not know its
    SpotIDs), as the customer's confirmation page does, and onboard them as a new request."""
    from flows.runs import resume_to_recheck
    from tasks.discovery import AlreadyConfirmed, confirm_proposals

    migrate()
    with session_scope() as session:
        try:
            request = crud.get_request(session, request_id=request_id)
        except LookupError as exc:
            raise fail(str(exc), EXIT_REFUSED) from exc
        if request.state != RequestState.finding_spot_ids:
            raise fail(f"request {request_id} has no SpotIDs proposed to confirm", EXIT_REFUSED)
    try:
        confirmed = confirm_proposals(request_id, None, by=Confirmer.ops)
    except AlreadyConfirmed as exc:
        raise fail(str(exc), EXIT_REFUSED) from exc
    if confirmed is None:
        raise fail(f"request {request_id} has no SpotID proposed; nothing to confirm", EXIT_REFUSED)
    asyncio.run(resume_to_recheck(confirmed.asking_run_id))  # ops' question in the UI
    new_id = confirmed.request_id
    raise typer.Exit(run_onboarding(out, err, new_id, verify_timeout))


@app.command()
def retry(request_id: int, verify_timeout: VerifyTimeout = None) -> None:
    """Run a stored request's onboarding again; it continues where it stopped."""
    migrate()
    with session_scope() as session:
        try:
            not_onboarded(crud.get_request(session, request_id=request_id))
        except LookupError as exc:
            raise fail(str(exc), EXIT_REFUSED) from exc
    raise typer.Exit(run_onboarding(out, err, request_id, verify_timeout))


def not_onboarded(request: OnboardingRequest) -> OnboardingRequest:
    """Exit 1 for an email that is not a request to onboard: a status question (answered by
    email, or by hand when held) or SpotIDs to find (`confirm` onboards the proposals)."""
    kind = (request.parsed or {}).get("kind", "spot_ids")
    if kind == "spot_ids" and request.state == RequestState.finding_spot_ids:
        raise fail(
            f"request {request.id} waits for its company's confirmation (sent by a HotSpot "
            "representative); `confirm` onboards it",
            EXIT_REFUSED,
        )
    if kind != "spot_ids":
        what = "a status question" if kind == "status_question" else "asks to find its SpotIDs"
        raise fail(
            f"request {request.id} is {what}, not SpotIDs to onboard"
            + ("; `confirm` onboards the SpotIDs proposed" if kind == "find_spot_ids" else ""),
            EXIT_REFUSED,
        )
    return request


def held_request(
    session: Session, request_id: int, *, states: tuple[RequestState, ...] = AWAITING_APPROVAL
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
    from flows.questions import approve as approve_request

    migrate()
    with session_scope() as session:
        request = not_onboarded(held_request(session, request_id))
        name = company or (
            crud.get_company(session, company_id=request.company_id).name
            if request.company_id
            else None
        )
        found = crud.get_company_by_name(session, name=name) if name else None
        if found is None:
            raise fail("name the company with --company (the sender is unknown)", EXIT_REFUSED)
        approve_request(session, request, found)
    raise typer.Exit(run_onboarding(out, err, request_id, verify_timeout))


@app.command()
def reject(
    request_id: int, reason: Annotated[str, typer.Option(help="Why, for the record.")]
) -> None:
    """Refuse a request that waits on ops (held, unsure, or a question) for good."""
    from flows.questions import reject as reject_request

    migrate()
    with session_scope() as session:
        request = held_request(session, request_id, states=WAITING_ON_A_PERSON)
        reject_request(session, request, reason)
    run_onboarding(out, err, request_id, None)  # its run ends on the refusal
    out.print(f"Request {request_id} rejected.")


operator_app = typer.Typer(help="The HotSpot operators whose spots a company may map.")
app.add_typer(operator_app, name="operator")


@operator_app.command("add")
def operator_add(company: str, operator: str) -> None:
    """Let COMPANY map spots of HotSpot OPERATOR (as HotSpot writes it), and continue every
    request of the company that waited on an operator."""
    from flows.questions import confirm_operator

    migrate()
    with session_scope() as session:
        found = crud.get_company_by_name(session, name=company)
        if found is None:
            raise fail(f"no company named {company!r}; seed it first", EXIT_REFUSED)
        known = operates(found.hotspot_operators, operator)
        waiting = [request.id or 0 for request in confirm_operator(session, found, operator)]
        operators = ", ".join(found.hotspot_operators)
    verb = "Already on file:" if known else "Added"
    out.print(f"{verb} {operator!r} for {found.name} (operators: {operators}).", markup=False)
    raise typer.Exit(continue_requests(waiting))


def warn_if_senders_unauthenticated() -> None:
    """One line while email senders are not authenticated (the embedded default)."""
    warning = sender_authentication_off_warning(settings.mail_trusted_authserv_ids)
    if warning:
        err.print(warning, markup=False, highlight=False, soft_wrap=True)


@app.command()
def sweep() -> None:
    """Revoke test permits left out past their validity (what the scheduled sweep does)."""
    from flows.sweep_test_permits import sweep_test_permits

    migrate()
    swept = asyncio.run(sweep_test_permits())
    for permit in swept:
        out.print(f"Revoked TEST123 at SpotID {permit.spot_id} (ended {permit.ended:%H:%M} UTC)")
    out.print(f"{len(swept)} test permits revoked.")


@app.command()
def check(
    company: Annotated[str | None, typer.Argument(help="Only this company's integration.")] = None,
) -> None:
    """Check live integrations at HotSpot now (what the daily health check does); exit 4 when
    one is degraded."""
    from flows.check_health import check_integration_health

    migrate()
    if company is not None:
        with session_scope() as session:
            if crud.get_company_by_name(session, name=company) is None:
                raise fail(f"no company {company!r}", EXIT_REFUSED)
    findings = asyncio.run(check_integration_health(company))
    for finding in findings:
        what = "unchecked" if not finding.checked else finding.problem or "healthy"
        line = f"{finding.company} · {finding.location}: SpotID {finding.spot_id} {what}"
        out.print(f"{line}: {finding.detail}" if finding.detail else line, soft_wrap=True)
    degraded = [f for f in findings if f.problem is not None]
    out.print(f"{len(findings)} SpotIDs checked, {len(degraded)} degraded.")
    if degraded:
        raise typer.Exit(EXIT_WAITING)


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
    except asyncio.CancelledError:  # SIGTERM reached one of its onboardings: stop all
        err.print("Stopped; a request interrupted at work is taken over by its next run.")
        raise typer.Exit(0) from None
    out.print(f"Took in {taken} messages.")


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
        float | None,
        typer.Option(
            help=f"Days the link is valid, at most {MAX_FORM_LINK_DAYS} (default: FORM_LINK_DAYS)."
        ),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Where the form is served (default: WEB_BASE_URL).")
    ] = None,
    revoke: Annotated[
        str | None,
        typer.Option(metavar="LINK_OR_ID", help="Revoke one of COMPANY's links instead."),
    ] = None,
) -> None:
    """Print a signed, expiring link to COMPANY's request form (its id on stderr); or revoke
    one of its links, by id or as it was sent."""
    from trust.links import LinkError
    from web.commands import form_link as make_link
    from web.commands import revoke_form_link

    if revoke is not None:
        try:
            revoked = revoke_form_link(company, revoke)
        except (LookupError, LinkError) as exc:
            raise fail(f"cannot revoke {revoke!r}: {exc}", EXIT_REFUSED) from exc
        if revoked is None:
            raise fail(f"no company named {company!r}; seed it first", EXIT_REFUSED)
        out.print(f"Revoked form link {revoked} of {company}: it opens nothing any more.")
        return
    try:
        link = make_link(company, days=days, base_url=base_url)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--days") from exc
    if link is None:
        raise fail(f"no company named {company!r}; seed it first", EXIT_REFUSED)
    typer.echo(link.url)
    err.print(
        f"Form link {link.link_id} for {company}, valid until {link.expires_at:%Y-%m-%d %H:%M} "
        f"UTC; revoke it with: hotspot-onboard form-link {shlex.quote(company)} "
        f"--revoke {link.link_id}",
        highlight=False,
        soft_wrap=True,
    )
