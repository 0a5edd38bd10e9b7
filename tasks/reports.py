"""What ops see on a run in the Prefect UI: the SpotID table, polling progress, a summary.

The UI renders descriptions, the summary and every table cell as Markdown: text that came
from a customer (or HotSpot) goes in through `md_text` only.
"""

from __future__ import annotations

from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)

from store import crud
from store.db import session_scope
from store.schemas import RequestOutcome
from tasks.markdown import md_text

# What each state means to a person reading the run.
STATUS_WORDS = {
    "pending": "received",
    "accepted": "valid",
    "mapped": "mapped",
    "test_issued": "TEST123 issued",
    "verified": "seen in HotSpot",
    "live": "live",
    "already_live": "already live (skipped)",
    "waiting_on_ops": "waiting on ops",
    "rejected": "refused",
    "failed": "failed",
}


async def publish_spot_table(request_id: int) -> None:
    """The request's SpotIDs with location and state; a new version after every step."""
    with session_scope() as session:
        outcome = crud.request_outcome(session, request_id=request_id)
    await acreate_table_artifact(
        key=f"request-{request_id}-spotids",
        table=spot_rows(outcome),
        description=f"SpotIDs of request {request_id} "
        f"({md_text(outcome.company or 'unknown company')})",
    )


def spot_rows(outcome: RequestOutcome) -> list[dict[str, str]]:
    """One row per SpotID, each cell Markdown."""
    return [
        {
            "Location": md_text(spot.location),
            "SpotID": md_text(spot.spot_id),
            "State": STATUS_WORDS.get(spot.status, md_text(spot.status)),
            "Why": md_text(spot.reason or ""),
        }
        for spot in outcome.spots
    ]


class PollProgress:
    """A progress artifact for the HotSpot polling step: share of TEST123 seen so far."""

    def __init__(self, request_id: int, total: int) -> None:
        self.request_id, self.total = request_id, total
        self.artifact_id: object | None = None

    async def update(self, seen: int, elapsed: float) -> None:
        percent = 100.0 * seen / self.total if self.total else 100.0
        description = (
            f"TEST123 seen in HotSpot's enforcement lookup at {seen} of {self.total} SpotIDs "
            f"after {elapsed:.0f} s"
        )
        if self.artifact_id is None:
            self.artifact_id = await acreate_progress_artifact(
                progress=percent,
                key=f"request-{self.request_id}-polling",
                description=description,
            )
        else:
            await aupdate_progress_artifact(
                self.artifact_id, progress=percent, description=description
            )


async def publish_summary(outcome: RequestOutcome) -> None:
    """The run's last word: what went live, what was refused and why, what ops do next."""
    await acreate_markdown_artifact(
        key=f"request-{outcome.request_id}-summary",
        markdown=summary_markdown(outcome),
        description=md_text(outcome.headline),
    )


def summary_markdown(outcome: RequestOutcome) -> str:
    """The summary as Markdown: our headings and words, the request's own text escaped."""
    went_live = [s for s in outcome.spots if s.status == "live"]
    skipped = [s for s in outcome.spots if s.status == "already_live"]
    open_items = [s for s in outcome.spots if s.status not in ("live", "already_live")]
    company = md_text(outcome.company or "unknown company")
    lines = [f"# Request {outcome.request_id} · {company}", ""]
    lines.append(f"**Outcome:** {STATUS_WORDS.get(outcome.state, md_text(outcome.state))}")
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
            f"{STATUS_WORDS.get(s.status, md_text(s.status))}"
            f"{': ' + md_text(s.reason) if s.reason else ''}"
            for s in open_items
        ]
    next_step = md_text(outcome.reason) if outcome.reason else "Nothing: the integration is live."
    lines += ["", "## Next", next_step]
    return "\n".join(lines)
