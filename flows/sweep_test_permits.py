"""The sweep: no run left dead at work, no TEST123 permit left out at HotSpot.

A run stopping short of live withdraws its test permits itself; one killed outright cannot,
nor can it say it stopped. This scheduled flow (a deployment in prefect.yaml, every 15
minutes; `hotspot-onboard sweep` runs it once) settles every request whose run died at work
(its lease lapsed: `failed`, with how to go on, its permits withdrawn), then revokes every test
permit past its validity that the store still calls active, follows up the token links left
unanswered (one reminder to the customer after two days; ops told once one expired), and
reports what it did.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.lease import settle_interrupted_requests
from tasks.permits import SweptPermit, sweep_expired_test_permits
from tasks.reports import publish_sweep_report
from tasks.token_link import follow_up_token_links


@flow(name="sweep-test-permits")
async def sweep_test_permits() -> list[SweptPermit]:
    """Settle interrupted requests, revoke test permits left out, follow up unanswered
    token links, and say which."""
    interrupted = await settle_interrupted_requests()
    if interrupted:
        get_run_logger().warning("Runs died at work on requests %s: marked failed", interrupted)
    swept = await sweep_expired_test_permits()
    get_run_logger().info("Revoked %d test permits left out past their validity", len(swept))
    followed = await follow_up_token_links()
    for follow_up in followed:
        get_run_logger().info(
            "Token link %s of request %s (%s): %s",
            follow_up.link_id,
            follow_up.request_id,
            follow_up.company,
            follow_up.action,
        )
    await publish_sweep_report(swept, interrupted=interrupted, token_links=followed)
    return swept
