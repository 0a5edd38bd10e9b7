"""`hotspot-onboard server status|stop` (the local Prefect server commands share when
PREFECT_API_URL is not set) and `hotspot-onboard automations` (ops' notifications)."""

from __future__ import annotations

import asyncio

import httpx
import typer

from settings import settings
from stack.local import LocalServer
from stack.prefect import ONBOARDING_DEPLOYMENT
from stack.process import StackError

server_app = typer.Typer(
    help="The local Prefect server that commands share when PREFECT_API_URL is not set.",
    no_args_is_help=True,
)


@server_app.command()
def status() -> None:
    """Say whether the data dir's local Prefect server runs, and where."""
    local = LocalServer(settings.data_dir)
    record = local.read()
    if record is None:
        typer.echo(f"No local Prefect server runs for {settings.data_dir}.")
        return
    started_by = "`make up`" if record.owner == "up" else "the CLI"
    typer.echo(f"{record.api_url} (started by {started_by}, pid {record.pid}; log {local.log})")


@server_app.command()
def stop() -> None:
    """Stop the local Prefect server the CLI started for the data dir (it also stops itself
    after EMBEDDED_SERVER_IDLE_SECONDS unused)."""
    local = LocalServer(settings.data_dir)
    with local.locked(local.lock_file):
        record = local.read()
        if record is None:
            typer.echo(f"No local Prefect server runs for {settings.data_dir}.")
            return
        if record.owner == "up":
            typer.echo(f"`make up` (pid {record.pid}) runs this server: stop it there.", err=True)
            raise typer.Exit(1)
        local.stop(record)
    typer.echo(f"Stopped the local Prefect server ({record.api_url}).")


def automations() -> None:
    """Create or update the automations that tell ops of runs waiting, failed or crashed.

    Email to OPS_NOTIFY_EMAIL through SMTP_*, and/or a POST to OPS_WEBHOOK_URL; run it
    against your server (PREFECT_API_URL) after `prefect deploy --all`.
    """
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    from stack.automations import configure_notifications, describe

    if not PREFECT_API_URL.value():
        typer.echo("set PREFECT_API_URL to your Prefect server's API first", err=True)
        raise typer.Exit(1)
    deployment = settings.onboarding_deployment or ONBOARDING_DEPLOYMENT

    async def configure() -> None:
        async with get_client() as client:
            await configure_notifications(client, settings, deployment=deployment)

    try:
        asyncio.run(configure())
    except (StackError, httpx.HTTPError) as exc:
        typer.echo(f"automations not configured: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Notifications for runs of {deployment}: {describe(settings)}")
