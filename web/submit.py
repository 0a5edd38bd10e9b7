"""Submitting a request from the web: the same intake and the same onboarding as an email.

The form JSON goes through `parse_form` and intake's `admit`, so the same sender rules hold
(a sender who is not the company's contact is held for review); an admitted new request
starts the onboarding flow through `flows.launch`, in this process or on a worker.
"""

from __future__ import annotations

import logging

from flows.launch import Onboardings
from parsers.form import parse_form
from store.db import session_scope
from store.models import RequestState
from tasks.intake import admit, starts_a_run

logger = logging.getLogger(__name__)


async def submit_form(raw: bytes, *, onboardings: Onboardings) -> tuple[int, RequestState, bool]:
    """Store the request as intake decides and start it if admitted: (id, state, whether new).

    Raises `UnreadableInput` or `NotASpotIDRequest` if the JSON is not a request.
    """
    parsed = parse_form(raw)
    with session_scope() as session:
        request, created = admit(session, raw, parsed)
        request_id, state = request.id or 0, request.state
    if created and starts_a_run(state):
        await onboardings.start(request_id)
    return request_id, state, created
