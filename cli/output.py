"""How the CLI shows requests and integrations to a person (rich tables).

Customer text (senders, subjects, locations, reasons) is printed as written: every console of
the CLI comes from `console()`, which reads no Rich markup and no emoji codes, so a sender
like `"[/red]"@evil.test` is text, never a style or an error. Styles are given as objects.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from store.models import IntegrationState, MappingState, Phase, RequestState, SpotVerdict
from store.schemas import RequestOutcome, StatusReport

STYLE_BY_PHASE = {
    Phase.done: "green",
    Phase.waiting: "yellow",
    Phase.refused: "red",
    Phase.failed: "red",
}


def console(*, stderr: bool = False) -> Console:
    """A console that prints strings as they are: no markup, no emoji codes."""
    return Console(stderr=stderr, markup=False, emoji=False)


def styled(status: RequestState | SpotVerdict | MappingState | IntegrationState) -> Text:
    return Text(status.value, style=STYLE_BY_PHASE.get(status.phase, ""))


def print_outcome(console: Console, outcome: RequestOutcome) -> None:
    """The request's SpotIDs in a table, then its one-line outcome and next step."""
    table = Table(title=f"Request {outcome.request_id} · {outcome.company or 'unknown company'}")
    for column in ("Location", "SpotID", "Status", "Reason"):
        table.add_column(column)
    for spot in outcome.spots:
        table.add_row(spot.location, spot.spot_id, styled(spot.status), spot.reason or "")
    console.print(table)
    console.print(
        Text.assemble(styled(outcome.state), f": {outcome.reason or 'done'}"), soft_wrap=True
    )


def print_status(console: Console, report: StatusReport) -> None:
    integrations = Table(title="HotSpot integrations")
    for column in ("Company", "Integration", "Location", "SpotID", "Mapping", "Last check"):
        integrations.add_column(column)
    for integration in report.integrations:
        for mapping in integration.mappings or []:
            state = styled(mapping.status)
            if mapping.problem is not None:
                state.append(f" ({mapping.problem.value})")
            checked = mapping.checked_at
            integrations.add_row(
                integration.company,
                styled(integration.status),
                mapping.location,
                mapping.spot_id,
                state,
                checked.strftime("%Y-%m-%d %H:%M UTC") if checked else "",
            )
    console.print(integrations)
    requests = Table(title="Requests")
    for column in ("#", "Company", "State", "Run last seen", "SpotIDs", "Reason"):
        requests.add_column(column)
    for request in report.requests:
        state = styled(request.state)
        if request.interrupted:
            state.append(" (interrupted: `retry` takes it over)", style="red")
        seen = request.run_last_seen_at
        requests.add_row(
            str(request.request_id),
            request.company or "",
            state,
            seen.strftime("%Y-%m-%d %H:%M:%S UTC") if seen else "",
            ", ".join(spot.spot_id for spot in request.spots),
            request.reason or "",
        )
    console.print(requests)
