"""Telling people what the health check found: ops once per new problem, and a company's
contact once when HotSpot refuses its token (with a token link to renew it).

Each notice is claimed in the store before it is sent (`crud.claim_health_notices`), so a
second check that finds the same problems tells nobody; one that could not be sent is
released for the next check.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

import httpx
from prefect import get_run_logger, task

from inbox import smtp
from inbox.replies import compose_message, token_renewal_body
from settings import settings
from store import crud
from store.db import session_scope
from store.models import HealthCheck, HealthProblem, utcnow
from tasks.replies import company_recipient, send_once
from trust.links import issue_token_link

PROBLEM_TITLES = {
    HealthProblem.spot_not_found: "SpotID unknown to HotSpot",
    HealthProblem.spot_inactive: "spot deactivated in HotSpot",
    HealthProblem.operator_changed: "spot moved to another operator",
    HealthProblem.token_refused: "company token refused",
    HealthProblem.canary_not_visible: "permits not shown to enforcement",
}


def _by_company_and_problem(
    checks: Sequence[HealthCheck],
) -> dict[tuple[int, HealthProblem], list[HealthCheck]]:
    grouped: dict[tuple[int, HealthProblem], list[HealthCheck]] = defaultdict(list)
    for check in checks:
        if check.problem is not None:
            grouped[(check.company_id, check.problem)].append(check)
    return grouped


@task(name="tell-ops-of-new-problems", retries=2, retry_delay_seconds=[10, 60])
async def tell_ops_of_new_problems() -> int:
    """One notice per new problem (a company's SpotIDs with the same problem are one): a
    warning in the run's log and, where configured, an email and a webhook call. How many."""
    with session_scope() as session:
        claimed = crud.claim_health_notices(session, channel="ops")
        notices = []
        for (company_id, problem), checks in _by_company_and_problem(claimed).items():
            company = crud.get_company(session, company_id=company_id).name
            lines = "\n".join(
                f"- SpotID {c.spot_id}: {c.detail or PROBLEM_TITLES[problem]}" for c in checks
            )
            subject = f"HotSpot integration degraded: {company} · {PROBLEM_TITLES[problem]}"
            notices.append((subject, lines, [c.id or 0 for c in checks]))
    for subject, lines, check_ids in notices:
        get_run_logger().warning("%s\n%s", subject, lines)
        body = (
            f"{subject}.\n\n{lines}\n\n"
            "The health check found this; `hotspot-onboard status` shows every integration, "
            "and `hotspot-onboard check` checks again once it is fixed.\n"
        )
        try:
            await _notify_ops(subject, body)
        except Exception:
            with session_scope() as session:
                crud.release_health_notices(session, channel="ops", check_ids=check_ids)
            raise
    return len(notices)


async def _notify_ops(subject: str, body: str) -> None:
    """On every channel ops configured: OPS_NOTIFY_EMAIL (with SMTP), OPS_WEBHOOK_URL (the
    JSON the flow-run notices' webhook gets)."""
    if settings.smtp_host and settings.ops_notify_email:
        message = compose_message(
            sender=settings.reply_from,
            to=", ".join(settings.ops_notify_email),
            subject=subject,
            body=body,
        )
        await asyncio.to_thread(smtp.send, message, settings)
    if settings.ops_webhook_url is not None:
        async with httpx.AsyncClient(timeout=30.0) as client:
            response = await client.post(
                settings.ops_webhook_url.get_secret_value(),
                json={"text": f"{subject}\n{body}", "subject": subject, "body": body},
            )
            response.raise_for_status()


@task(name="ask-for-renewed-tokens", retries=2, retry_delay_seconds=[10, 60])
async def ask_for_renewed_tokens() -> list[str]:
    """Email each company whose token HotSpot newly refuses a link to give the new one (to the
    proven contact of a request that mapped the SpotIDs); the companies written to."""
    written: list[str] = []
    with session_scope() as session:
        claimed = crud.claim_health_notices(
            session, channel="contact", problems=[HealthProblem.token_refused]
        )
        letters = []
        for (company_id, _), checks in _by_company_and_problem(claimed).items():
            company = crud.get_company(session, company_id=company_id)
            spots, recipient, request_id = [], None, 0
            for check in checks:
                mapping = crud.get_mapping(session, mapping_id=check.mapping_id)
                request = crud.get_request(session, request_id=mapping.request_id)
                names = {
                    line.spot_id: line.location
                    for line in crud.request_spots(session, request_id=mapping.request_id)
                }
                spots.append((names.get(check.spot_id, ""), check.spot_id))
                if recipient is None:
                    recipient = company_recipient.fn(request, company)
                    request_id = mapping.request_id
            letters.append((company_id, company.name, spots, recipient, request_id))
    for company_id, name, spots, recipient, request_id in letters:
        if recipient is None or not settings.smtp_host:
            get_run_logger().warning(
                "%s's HotSpot token is refused; no proven contact (or no SMTP) to ask for a new "
                'one: get it and give it with `hotspot-onboard token "%s"`',
                name,
                name,
            )
            continue
        link_id, url = issue_token_link(
            company_id=company_id, request_id=request_id, recipient=recipient
        )
        expires = utcnow() + timedelta(hours=settings.token_link_hours)
        body = token_renewal_body(company=name, spots=spots, url=url, expires=expires)
        await send_once(request_id, f"token-renewal-{link_id}", recipient, body, None)
        get_run_logger().info("Asked %s for %s's renewed HotSpot token", recipient, name)
        written.append(name)
    return written
