"""Starting a request's onboarding: on a worker through the deployment, or in this process.

With ONBOARDING_DEPLOYMENT set (a Prefect server with workers), each onboarding is a flow run
of that deployment, created with the request's key as idempotency key: asking twice never
makes two runs. Without it (embedded defaults), the flow runs in this process.
"""

from __future__ import annotations

import asyncio

from prefect.deployments import run_deployment

from flows.onboard_request import onboard_request
from settings import settings
from store import crud
from store.db import session_scope


async def start_onboarding(request_id: int) -> asyncio.Task[object] | None:
    """Start the onboarding; the in-process run's task, or None when a worker runs it."""
    if not settings.onboarding_deployment:
        # The final state, not its result: a refused request is an outcome, not an error.
        return asyncio.create_task(onboard_request(request_id, return_state=True))
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        company = (
            crud.get_company(session, company_id=request.company_id).name
            if request.company_id
            else "unknown"
        )
        key, source = request.key, request.source.value
    run = await run_deployment(
        settings.onboarding_deployment,
        parameters={"request_id": request_id},
        idempotency_key=f"onboard:{key}",
        tags=[f"source:{source}", f"company:{company}"],
        timeout=0,
    )
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        crud.set_flow_run(session, request=request, flow_run_id=str(run.id))
    return None
