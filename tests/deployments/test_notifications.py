"""Ops are told, by the Prefect server's own automations, when a deployed onboarding run
suspends for them or fails, or a scheduled health check fails: an email through SMTP (the
capture of tests/servers) and a POST to a webhook, on a real `prefect server` with a real
worker."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.flow_runs import wait_for_flow_run
from prefect.states import Failed

from settings import Settings
from stack.automations import CRASH_DETECTION, NOTICES, configure_notifications
from stack.prefect import MAINTENANCE_DEPLOYMENTS, ONBOARDING_DEPLOYMENT
from testing.cli import CLI
from testing.demo import OPS
from testing.onboarding import launch, submit, wait_for_state
from testing.stack import DeployedStack
from tests.servers.fixtures import SMTP_USER
from tests.servers.smtp import SmtpCapture


class WebhookCapture(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that keeps the JSON body of every POST."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.arrived = threading.Condition()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with capture.arrived:
                    capture.bodies.append(body)
                    capture.arrived.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float) -> list[dict[str, Any]]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.bodies) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} webhook call(s), got {len(self.bodies)}")
            return list(self.bodies)


@pytest.fixture
def webhook() -> Iterator[WebhookCapture]:
    server = WebhookCapture()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


async def test_ops_are_told_when_a_run_suspends_and_when_one_fails(
    stack: DeployedStack, hotspot, smtp_capture: SmtpCapture, webhook: WebhookCapture
) -> None:
    assert smtp_capture.credentials is not None
    channels = {
        "SMTP_HOST": smtp_capture.host,
        "SMTP_PORT": str(smtp_capture.port),
        "SMTP_SECURITY": "none",
        "SMTP_USER": SMTP_USER,
        "SMTP_PASSWORD": smtp_capture.credentials[1],
        "OPS_NOTIFY_EMAIL": OPS,
        "OPS_WEBHOOK_URL": webhook.url,
    }
    # The production command, then again in process (idempotent: updated in place).
    done = subprocess.run(
        [CLI, "automations"], env=stack.env | channels, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Notifications for runs of {ONBOARDING_DEPLOYMENT}: email")
    async with PrefectClient(stack.server.api_url) as client:
        await configure_notifications(
            client, Settings(**channels), deployment=ONBOARDING_DEPLOYMENT
        )
        automations = await client.read_automations()
    assert sorted(a.name for a in automations) == sorted(
        [CRASH_DETECTION, *(name for name, *_ in NOTICES)]
    )
    notices = [a for a in automations if a.name != CRASH_DETECTION]
    assert all(len(a.actions) == 2 and a.enabled for a in notices)  # email and webhook
    stack.add_worker("worker-1")

    waiting = await launch(submit({"Lot A": "14283", "Lot B": "15320"}))
    await wait_for_state(waiting, "Suspended")

    [mail] = smtp_capture.wait_for(1, timeout=120)
    [call] = webhook.wait_for(1, timeout=120)
    assert mail.rcpt_tos == (OPS,) and mail.login == SMTP_USER
    assert mail.message["Subject"].startswith("HotSpot onboarding waits for ops: Acme Parking")
    assert f"/runs/flow-run/{waiting}" in mail.message.get_body().get_content()
    assert call["subject"] == mail.message["Subject"]
    assert call["text"].startswith(call["subject"])

    hotspot.configure(error_rate=1.0)
    failing = await launch(submit({"Garage C": "16001"}))
    assert (await wait_for_flow_run(failing, timeout=180)).state.is_failed()

    mails = smtp_capture.wait_for(2, timeout=120)
    calls = webhook.wait_for(2, timeout=120)
    assert mails[1].message["Subject"].startswith("HotSpot onboarding ")
    assert f"/runs/flow-run/{failing}" in mails[1].message.get_body().get_content()
    assert "Acme Parking" in calls[1]["subject"]
    assert len(smtp_capture.messages) == 2  # one notice per state change, not one per worker

    # A scheduled health check that fails: nobody waits for it, so ops are told.
    async with PrefectClient(stack.server.api_url) as client:
        health = await client.read_deployment_by_name(MAINTENANCE_DEPLOYMENTS[1])
        run = await client.create_flow_run_from_deployment(health.id)
        await client.set_flow_run_state(run.id, Failed(message="HotSpot was down"), force=True)
    mails = smtp_capture.wait_for(3, timeout=120)
    subject = mails[2].message["Subject"]
    assert subject == f"HotSpot check-integration-health Failed: {run.name}"
    assert "HotSpot was down" in mails[2].message.get_body().get_content()
