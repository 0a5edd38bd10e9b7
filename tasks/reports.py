"""What ops see on a run in the Prefect UI: the SpotID table, polling progress, a summary.

Each is one artifact per run, updated in place as the run goes (the run's Artifacts tab shows
where things stand now, not a pile of versions); keys carry the store's id, so requests of two
stores sharing a Prefect server never mix (`request-12-<store>-spotids`).

The UI renders descriptions, the summary and every table cell as Markdown: text that came
from a customer (or HotSpot) goes in through `md_text` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from prefect.artifacts import (
    Artifact,
    MarkdownArtifact,
    TableArtifact,
    acreate_progress_artifact,
    aupdate_progress_artifact,
)
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactUpdate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.runtime import flow_run

from store import crud
from store.db import session_scope
from store.models import MappingState, Phase, SpotVerdict
from store.schemas import RequestOutcome, StatusReport
from tasks.markdown import md_text
from tasks.permits import SweptPermit

if TYPE_CHECKING:
    from tasks.token_link import TokenLinkFollowUp


def artifact_key(request_id: int | None, what: str) -> str:
    """`request-12-<store id>-spotids` (or `<store id>-what` for no request): unique across
    stores sharing one Prefect server."""
    with session_scope() as session:
        store = crud.store_id(session)[:12]
    return f"{store}-{what}" if request_id is None else f"request-{request_id}-{store}-{what}"


async def publish(artifact: Artifact) -> None:
    """Create the run's artifact of this key, or update it in place if the run has one."""
    async with get_client() as client:
        existing = await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[artifact.key or ""]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]),
            ),
            limit=1,
        )
        if not existing:
            await artifact.acreate(client)
            return
        update = ArtifactUpdate(data=await artifact.aformat(), description=artifact.description)
        await client.update_artifact(existing[0].id, update)


async def publish_spot_table(request_id: int) -> None:
    """The request's SpotIDs with location and state, updated after every step."""
    with session_scope() as session:
        outcome = crud.request_outcome(session, request_id=request_id)
    await publish(
        TableArtifact(
            key=artifact_key(request_id, "spotids"),
            table=spot_rows(outcome),
            description=f"SpotIDs of request {request_id} "
            f"({md_text(outcome.company or 'unknown company')})",
        )
    )


def spot_rows(outcome: RequestOutcome) -> list[dict[str, str]]:
    """One row per SpotID, each cell Markdown."""
    return [
        {
            "Location": md_text(spot.location),
            "SpotID": md_text(spot.spot_id),
            "State": spot.status.label,
            "Why": md_text(spot.reason or ""),
        }
        for spot in outcome.spots
    ]


class PollProgress:
    """A progress artifact for the HotSpot polling step: share of TEST123 seen so far."""

    def __init__(self, request_id: int, total: int) -> None:
        self.request_id, self.total = request_id, total
        self.artifact_id: UUID | None = None

    async def update(self, seen: int, elapsed: float) -> None:
        percent = 100.0 * seen / self.total if self.total else 100.0
        description = (
            f"TEST123 seen in HotSpot's enforcement lookup at {seen} of {self.total} SpotIDs "
            f"after {elapsed:.0f} s"
        )
        if self.artifact_id is None:
            self.artifact_id = await acreate_progress_artifact(
                progress=percent,
                key=artifact_key(self.request_id, "polling"),
                description=description,
            )
        else:
            await aupdate_progress_artifact(
                self.artifact_id, progress=percent, description=description
            )


async def publish_summary(outcome: RequestOutcome) -> None:
    """The run's last word: what went live, what was refused and why, what ops do next."""
    await publish(
        MarkdownArtifact(
            key=artifact_key(outcome.request_id, "summary"),
            markdown=summary_markdown(outcome),
            description=md_text(outcome.headline),
        )
    )


def summary_markdown(outcome: RequestOutcome) -> str:
    """The summary as Markdown: our headings and words, the request's own text escaped."""
    went_live = [s for s in outcome.spots if s.status == MappingState.live]
    skipped = [s for s in outcome.spots if s.status == SpotVerdict.already_live]
    open_items = [s for s in outcome.spots if s.status.phase != Phase.done]
    company = md_text(outcome.company or "unknown company")
    lines = [f"# Request {outcome.request_id} · {company}", ""]
    lines.append(f"**Outcome:** {outcome.state.label}")
    lines.append("")
    if went_live:
        lines.append("## Live")
        lines += [f"- {md_text(s.location)}: SpotID {md_text(s.spot_id)}" for s in went_live]
    if skipped:
        lines.append("## Already live (skipped)")
        lines += [f"- {md_text(s.location)}: SpotID {md_text(s.spot_id)}" for s in skipped]
    if open_items:
        lines.append("## Not live")
        lines += [
            f"- {md_text(s.location)}: SpotID {md_text(s.spot_id)} — "
            f"{s.status.label}"
            f"{': ' + md_text(s.reason) if s.reason else ''}"
            for s in open_items
        ]
    next_step = md_text(outcome.reason) if outcome.reason else "Nothing: the integration is live."
    lines += ["", "## Next", next_step]
    return "\n".join(lines)


async def publish_sweep_report(
    swept: Sequence[SweptPermit],
    *,
    interrupted: list[int],
    token_links: Sequence[TokenLinkFollowUp] = (),
) -> None:
    """What the sweep settled and revoked, for ops: one line each (none is news too)."""
    lines = ["# Sweep", ""]
    if token_links:
        lines += ["## Token links unanswered", ""]
        lines += [
            f"- request {f.request_id} ({md_text(f.company)}), link {f.link_id}: {f.action}"
            for f in token_links
        ]
        lines.append("")
    if interrupted:
        lines += ["## Requests whose run died at work (now failed; retry continues them)", ""]
        lines += [f"- request {request_id}" for request_id in interrupted]
        lines.append("")
    lines += ["## Test permits revoked", ""]
    if not swept:
        lines.append("None: every test permit past its validity was already withdrawn.")
    lines += [
        f"- SpotID {md_text(p.spot_id)}: `{p.external_id}`, ended {p.ended:%Y-%m-%d %H:%M} UTC"
        for p in swept
    ]
    await publish(
        MarkdownArtifact(
            key=artifact_key(None, "test-permit-sweep"),
            markdown="\n".join(lines),
            description=f"{len(interrupted)} interrupted requests settled, "
            f"{len(swept)} test permits revoked",
        )
    )


async def publish_health_report() -> None:
    """Every integration's mappings with their last health check, for ops: one table."""
    with session_scope() as session:
        rows = health_rows(crud.status_report(session))
    degraded = sum(row["State"] == MappingState.degraded.label for row in rows)
    await publish(
        TableArtifact(
            key=artifact_key(None, "integration-health"),
            table=rows,
            description=f"Integration health: {len(rows)} SpotIDs, {degraded} degraded",
        )
    )


def health_rows(report: StatusReport) -> list[dict[str, str]]:
    """One row per mapping of every integration, each cell Markdown."""
    return [
        {
            "Company": md_text(integration.company),
            "Location": md_text(mapping.location),
            "SpotID": md_text(mapping.spot_id),
            "State": mapping.status.label,
            "Problem": mapping.problem.value if mapping.problem else "",
            "Last check": (
                f"{mapping.checked_at:%Y-%m-%d %H:%M} UTC" if mapping.checked_at else "never"
            ),
            "Why": md_text(mapping.reason or ""),
        }
        for integration in report.integrations
        for mapping in integration.mappings
    ]
