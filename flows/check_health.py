"""The health check: every live integration still works, or ops know what broke.

Going live is not the end: a spot gets deactivated or moved to another operator, a company's
HotSpot token is revoked, or HotSpot stops showing Offstreet's permits at a spot. This scheduled
flow (a deployment in prefect.yaml, daily; `hotspot-onboard check [COMPANY]` runs it once)
checks each live mapping at HotSpot, marks a broken one `degraded` with why (a passing check
makes it live again), tells ops once per new problem and a company's contact once when its
token needs renewing, and publishes every integration's last check.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.health import Finding, check_integrations, integrations_to_check, record_health
from tasks.health_notices import ask_for_renewed_tokens, tell_ops_of_new_problems
from tasks.reports import publish_health_report


@flow(name="check-integration-health")
async def check_integration_health(company: str | None = None) -> list[Finding]:
    """Check every live integration (or one company's), record it, tell who must act."""
    # 1. What went live (and what the last check found degraded).
    targets = integrations_to_check(company)
    # 2. Ask HotSpot about each, at once: the spot, then a canary permit.
    findings = await check_integrations(targets)
    # 3. Keep every check; move each mapping to degraded, or back to live.
    new_problems = record_health(findings)
    get_run_logger().info(
        "Checked %d SpotIDs: %d degraded (%d newly)",
        len(findings),
        sum(f.problem is not None for f in findings),
        len(new_problems),
    )
    # 4. Tell ops of each new problem once; ask for a renewed token once.
    await tell_ops_of_new_problems()
    await ask_for_renewed_tokens()
    # 5. Every integration with its last check, for ops.
    await publish_health_report()
    return findings
