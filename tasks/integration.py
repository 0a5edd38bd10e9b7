"""Step 2: check for an existing integration; a company is set up once, later requests add."""

from __future__ import annotations

from prefect import get_run_logger, task
from pydantic import BaseModel

from store import crud
from store.db import session_scope
from store.models import SpotVerdict


class IntegrationCheck(BaseModel):
    """Whether the integration is new, and the SpotIDs that are already live (skipped)."""

    new_integration: bool
    already_live: list[str]


@task(name="check-existing-integration")
async def check_existing_integration(request_id: int) -> IntegrationCheck:
    """Create the company's integration if it has none; skip SpotIDs that are already live."""
    logger = get_run_logger()
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        assert request.company_id is not None, "validation sets the company"
        _, created = crud.ensure_integration(session, company_id=request.company_id)
        lines = crud.request_spots(session, request_id=request_id)
        mapped = crud.mappings_by_spot(session, spot_ids=[line.spot_id for line in lines])
        already_live = []
        for line in lines:
            mapping = mapped.get(line.spot_id)
            # Live through an earlier request: skipped. Live through this one: a rerun.
            if mapping is not None and mapping.is_live and mapping.request_id != request_id:
                crud.set_verdict(
                    session,
                    line=line,
                    verdict=SpotVerdict.already_live,
                    reason="already live; nothing to do",
                )
                already_live.append(line.spot_id)
    if created:
        logger.info("Request %s: new HotSpot integration created", request_id)
    else:
        logger.info("Request %s: the company's integration exists; adding locations", request_id)
    if already_live:
        logger.info("Already live, skipped: %s", ", ".join(already_live))
    return IntegrationCheck(new_integration=created, already_live=already_live)
