"""The sweep: no TEST123 permit stays out at HotSpot after its validity.

A run stopping short of live withdraws its test permits itself; one killed outright cannot.
This scheduled flow (a deployment in prefect.yaml, every 15 minutes; `hotspot-onboard sweep`
runs it once) revokes every test permit past its validity that the store still calls active,
and reports what it did.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.permits import SweptPermit, sweep_expired_test_permits
from tasks.reports import publish_sweep_report


@flow(name="sweep-test-permits")
async def sweep_test_permits() -> list[SweptPermit]:
    """Revoke the test permits left out past their validity, and say which."""
    swept = await sweep_expired_test_permits()
    get_run_logger().info("Revoked %d test permits left out past their validity", len(swept))
    await publish_sweep_report(swept)
    return swept
