"""Finding SpotIDs with deployed runs: the watcher (a real `watch --once`) starts a run for the
proposals, which asks ops in the UI; whichever confirmation comes first, ops' there or the
customer's on the link, is the one applied."""

from __future__ import annotations

import subprocess
import uuid

import httpx
from prefect.flow_runs import aresume_flow_run, wait_for_flow_run

from store import crud
from store.db import session_scope
from store.models import Confirmer, RequestState
from testing.cli import CLI
from testing.onboarding import wait_for_state
from testing.stack import DeployedStack
from tests.deployments.test_token_link_deployed import mailing_stack
from tests.flows.test_watch_inbox import mailbox
from tests.inbox.test_find_spot_ids import ASK, proposals_mail
from tests.inbox.test_status_questions import question
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpCapture
from tests.web.conftest import csrf_of
from web.app import create_app

__all__ = ["mailbox", "mailing_stack"]  # fixtures, used below


def watch_once(stack: DeployedStack, mailbox: DovecotServer) -> None:
    """`hotspot-onboard watch --once` as ops run it beside `make up`'s stack."""
    imap = {
        "IMAP_HOST": mailbox.host,
        "IMAP_PORT": str(mailbox.port),
        "IMAP_USER": mailbox.user,
        "IMAP_PASSWORD": mailbox.password,
        "SSL_CERT_FILE": str(mailbox.ca_file),
    }
    watched = subprocess.run(
        [CLI, "watch", "--once"],
        env=stack.env | imap,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert watched.returncode == 0, watched.stdout + watched.stderr


async def asking_run(request_id: int) -> uuid.UUID:
    """The proposals' run, once it is suspended on ops' question."""
    with session_scope() as session:
        run_id = crud.get_request(session, request_id=request_id).flow_run_id
    assert run_id, "the proposals got no run to ask ops"
    await wait_for_state(uuid.UUID(run_id), "Suspended")
    return uuid.UUID(run_id)


async def test_ops_confirm_the_proposals_in_the_ui(
    mailing_stack: DeployedStack, mailbox: DovecotServer, smtp_capture: SmtpCapture
) -> None:
    mailing_stack.add_worker("worker-1")
    mailbox.append(question(ASK))  # Lot A, lot-d and Zoo Lot (not one of Acme's)
    watch_once(mailing_stack, mailbox)
    proposals_mail(smtp_capture)  # the customer has its link too
    run_id = await asking_run(1)

    # Ops confirm Lot A only (Lot D unchecked).
    await aresume_flow_run(run_id, run_input={"spot_0": True, "spot_1": False})
    run = await wait_for_flow_run(run_id, timeout=180)

    assert run.state is not None and run.state.name == "Completed", run.state
    with session_scope() as session:
        asked = crud.get_request(session, request_id=1)
        assert (asked.confirmed_by, asked.confirmed_as) == (Confirmer.ops, 2)
        lines = crud.request_spots(session, request_id=2)
        assert [(line.location, line.spot_id) for line in lines] == [("Lot A", "14283")]
        confirmed_run = crud.get_request(session, request_id=2).flow_run_id
    assert confirmed_run, "the confirmed request's run was not started"
    onboarded = await wait_for_flow_run(uuid.UUID(confirmed_run), timeout=180)
    assert onboarded.state is not None and onboarded.state.name == "Completed", onboarded.state
    with session_scope() as session:
        assert crud.get_request(session, request_id=2).state == RequestState.live


async def test_the_customer_confirming_first_ends_ops_question(
    mailing_stack: DeployedStack, mailbox: DovecotServer, smtp_capture: SmtpCapture
) -> None:
    mailing_stack.add_worker("worker-1")
    mailbox.append(question(ASK))
    watch_once(mailing_stack, mailbox)
    path, _ = proposals_mail(smtp_capture)
    run_id = await asking_run(1)

    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get(path)
        confirmed = await client.post(
            path, data={"csrf_token": csrf_of(page.text), "confirm": ["1"]}
        )
        assert confirmed.status_code == 303, confirmed.text

    # The question in the UI closes by itself: the run ends, nothing applied twice.
    run = await wait_for_flow_run(run_id, timeout=180)
    assert run.state is not None and run.state.name == "Completed", run.state
    with session_scope() as session:
        asked = crud.get_request(session, request_id=1)
        assert (asked.confirmed_by, asked.confirmed_as) == (Confirmer.customer, 2)
        assert len(crud.list_requests(session)) == 2
        lines = crud.request_spots(session, request_id=2)
        assert [(line.location, line.spot_id) for line in lines] == [("Lot D", "17777")]
