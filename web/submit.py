"""Submitting a request from the web: the same intake and the same onboarding as an email.

The form JSON goes through `parse_form` and intake's `admit`, so the same sender rules hold
(a sender who is not the company's contact is held for review); an admitted new request
starts the onboarding flow through `flows.launch`, in this process or on a worker.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from flows.launch import Onboardings
from parsers.form import parse_form
from store.db import session_scope
from store.models import RequestState
from tasks.intake import admit, starts_a_run

logger = logging.getLogger(__name__)


def form_json(*, company: str, contact_email: str, spots: Sequence[tuple[str, str | int]]) -> bytes:
    """The pipeline's form JSON, canonical, so the same request is the same bytes."""
    body: dict[str, Any] = {
        "company": company,
        "contact_email": contact_email,
        "spots": [{"location": location, "spot_id": spot_id} for location, spot_id in spots],
    }
    return json.dumps(body, separators=(",", ":")).encode()


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
