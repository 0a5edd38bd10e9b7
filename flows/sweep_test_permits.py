"""The sweep: no run left dead at work, no TEST123 permit left out at HotSpot.

A run stopping short of live withdraws its test permits itself; one killed outright cannot,
nor can it say it stopped. This scheduled flow (a deployment in prefect.yaml, every 15
minutes; `hotspot-onboard sweep` runs it once) settles every request whose run died at work
(its lease lapsed: `failed`, with how to go on, its permits withdrawn), then revokes every test
permit past its validity that the store still calls active, and reports what it did.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.lease import settle_interrupted_requests
from tasks.permits import SweptPermit, sweep_expired_test_permits
from tasks.reports import publish_sweep_report


@flow(name="sweep-test-permits")
async def sweep_test_permits() -> list[SweptPermit]:
    """Settle interrupted requests, revoke test permits left out, and say which."""
    interrupted = await settle_interrupted_requests()
    if interrupted:
        get_run_logger().warning("Runs died at work on requests %s: marked failed", interrupted)
    swept = await sweep_expired_test_permits()
    get_run_logger().info("Revoked %d test permits left out past their validity", len(swept))
    await publish_sweep_report(swept, interrupted=interrupted)
    return swept
