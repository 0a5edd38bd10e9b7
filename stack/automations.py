"""Prefect automations that tell ops when an onboarding run waits for them, fails or crashes,
and when a scheduled maintenance run (the sweep, the health check) fails or crashes.

The Prefect *server* sends these notices: its `send-notification` action loads the block in
the server's own process (`Block.get_block_class_from_schema`), so the block's class must be
one the server can import. Prefect core has no SMTP notification block (PrefectHQ/prefect#16881)
and a block class of this project would be unknown to a server that does not have the project
installed. Core's Apprise-based Slack Webhook block hands any URL that is not a Slack webhook to
Apprise, whose `mailto://` plugin speaks SMTP: the email notices use it with a `mailto(s)://`
URL made from the SMTP_* settings, so any Prefect server can send them. Webhook notices use
core's Custom Webhook block. Everything is created or updated in place, by name.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote, urlencode
from uuid import UUID

from prefect.blocks.core import Block
from prefect.blocks.notifications import CustomWebhookNotificationBlock, SlackWebhook
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState, SendNotification
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.exceptions import ObjectNotFound
from pydantic import SecretStr

from settings import Settings
from stack.prefect import MAINTENANCE_DEPLOYMENTS
from stack.process import StackError

EMAIL_BLOCK = "hotspot-ops-email"
WEBHOOK_BLOCK = "hotspot-ops-webhook"
APPRISE_MODES = {"starttls": "starttls", "tls": "ssl", "none": "insecure"}

# (name, whose runs: onboarding or maintenance, the run's state it reacts to, subject, body);
# Jinja rendered by the server.
NOTICES: tuple[tuple[str, str, dict[str, str | list[str]], str, str], ...] = (
    (
        "hotspot: an onboarding waits for ops",
        "onboarding",
        {"prefect.state-type": "PAUSED", "prefect.state-name": "Suspended"},
        "HotSpot onboarding waits for ops: {{ flow_run.name }}",
        "{{ flow_run.name }} waits for an answer from ops: {{ flow_run.state.message }}\n"
        "Answer it in the Prefect UI (Resume): {{ flow_run|ui_url }}",
    ),
    (
        "hotspot: an onboarding failed or crashed",
        "onboarding",
        {"prefect.state-type": ["FAILED", "CRASHED"]},
        "HotSpot onboarding {{ flow_run.state.name }}: {{ flow_run.name }}",
        "{{ flow_run.name }} ended {{ flow_run.state.name }}: {{ flow_run.state.message }}\n"
        "Its logs, and Retry: {{ flow_run|ui_url }}",
    ),
    (
        "hotspot: a maintenance run failed or crashed",
        "maintenance",
        {"prefect.state-type": ["FAILED", "CRASHED"]},
        "HotSpot {{ deployment.name }} {{ flow_run.state.name }}: {{ flow_run.name }}",
        "The scheduled {{ deployment.name }} run {{ flow_run.name }} ended "
        "{{ flow_run.state.name }}: {{ flow_run.state.message }}\n"
        "Until it runs again, what it watches is not checked. Its logs, and Retry: "
        "{{ flow_run|ui_url }}",
    ),
)


def apprise_email_url(config: Settings) -> str:
    """The SMTP settings and OPS_NOTIFY_EMAIL as an Apprise `mailto(s)://` URL."""
    if not config.smtp_host:
        raise StackError("OPS_NOTIFY_EMAIL needs SMTP_HOST (and SMTP_PORT, SMTP_SECURITY, ...)")
    query = {
        "smtp": config.smtp_host,
        "mode": APPRISE_MODES[config.smtp_security],
        "from": config.reply_from,
        "name": "HotSpot onboarding",
        "to": ",".join(config.ops_notify_email),
    }
    if config.smtp_user:
        password = config.smtp_password.get_secret_value() if config.smtp_password else ""
        query |= {"user": config.smtp_user, "pass": password}
    scheme = "mailto" if config.smtp_security == "none" else "mailtos"
    return f"{scheme}://{config.smtp_host}:{config.smtp_port}/?{urlencode(query, quote_via=quote)}"


def notification_blocks(config: Settings) -> dict[str, Block]:
    """The configured channels by block name: OPS_NOTIFY_EMAIL and OPS_WEBHOOK_URL."""
    blocks: dict[str, Block] = {}
    if config.ops_notify_email:
        blocks[EMAIL_BLOCK] = SlackWebhook(url=SecretStr(apprise_email_url(config)))
    if config.ops_webhook_url is not None:
        blocks[WEBHOOK_BLOCK] = CustomWebhookNotificationBlock(
            name=WEBHOOK_BLOCK,
            url=config.ops_webhook_url.get_secret_value(),
            json_data={
                "text": "{{subject}}\n{{body}}",
                "subject": "{{subject}}",
                "body": "{{body}}",
            },
        )
    return blocks


def describe(config: Settings) -> str:
    """Where notices go, in a few words."""
    channels = [f"email to {', '.join(config.ops_notify_email)}"] if config.ops_notify_email else []
    channels += ["the webhook OPS_WEBHOOK_URL"] if config.ops_webhook_url else []
    return " and ".join(channels) or "off (set OPS_NOTIFY_EMAIL and/or OPS_WEBHOOK_URL)"


async def configure_notifications(
    client: PrefectClient, config: Settings, *, deployment: str
) -> None:
    """Create or update the notification blocks and the automations for runs of
    `deployment` and of the maintenance deployments that exist (with no channel configured,
    the notices are removed), and the automation that marks its silent runs Crashed."""
    try:
        watched = await client.read_deployment_by_name(deployment)
    except ObjectNotFound:
        raise StackError(f"no deployment {deployment} yet: run `prefect deploy --all`") from None
    whose = {"onboarding": [watched.id], "maintenance": await _existing(client)}
    block_ids = [
        await block.asave(name, overwrite=True, client=client)
        for name, block in notification_blocks(config).items()
    ]
    for name, runs_of, state, subject, body in NOTICES:
        if block_ids and whose[runs_of]:
            notice = _automation(name, state, subject, body, whose[runs_of], block_ids)
            await _upsert(client, notice)
            continue
        for stale in await client.read_automations_by_name(name):  # no channel: no notice
            await client.delete_automation(stale.id)
    await _upsert(client, crash_detection(config, deployment_id=watched.id))


async def _existing(client: PrefectClient) -> list[UUID]:
    """The maintenance deployments this server has."""
    found = []
    for name in MAINTENANCE_DEPLOYMENTS:
        try:
            found.append((await client.read_deployment_by_name(name)).id)
        except ObjectNotFound:
            continue
    return found


CRASH_DETECTION = "hotspot: a run that stopped sending heartbeats crashed"


def crash_detection(config: Settings, *, deployment_id: UUID) -> AutomationCore:
    """A run of the deployment silent for three heartbeats (its worker or machine died) is
    marked Crashed, which the failed-or-crashed notice then tells ops (Prefect's own recipe,
    "detect zombie flows"; workers send heartbeats every RUN_HEARTBEAT_SECONDS)."""
    return AutomationCore(
        name=CRASH_DETECTION,
        description="Created by `hotspot-onboard automations` (and `make up`); edits are replaced.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
                "prefect.flow-run.Suspended",
                "prefect.flow-run.Paused",
            },
            match={"prefect.resource.id": "prefect.flow-run.*"},
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=3 * config.run_heartbeat_seconds),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message="its worker stopped sending heartbeats: the process or machine died; "
                "retry it (the request continues where it stopped)",
            )
        ],
    )


async def _upsert(client: PrefectClient, automation: AutomationCore) -> None:
    """Create the automation, or update the one of the same name in place."""
    existing = await client.read_automations_by_name(automation.name)
    for stale in existing[1:]:
        await client.delete_automation(stale.id)
    if existing:
        await client.update_automation(existing[0].id, automation)
    else:
        await client.create_automation(automation)


def _automation(
    name: str,
    state: dict[str, str | list[str]],
    subject: str,
    body: str,
    deployment_ids: list[UUID],
    block_ids: list[UUID],
) -> AutomationCore:
    """Each run of the deployments entering `state` sends the notice on every channel."""
    return AutomationCore(
        name=name,
        description="Created by `hotspot-onboard automations` (and `make up`); edits are replaced.",
        trigger=EventTrigger(
            expect={"prefect.flow-run.*"},
            match={"prefect.resource.id": "prefect.flow-run.*", **state},
            match_related={
                "prefect.resource.role": "deployment",
                "prefect.resource.id": [f"prefect.deployment.{d}" for d in deployment_ids],
            },
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[
            SendNotification(block_document_id=block_id, subject=subject, body=body)
            for block_id in block_ids
        ],
    )
