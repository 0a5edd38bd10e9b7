"""Starting onboardings from the web: references kept, failures logged or recorded."""

from __future__ import annotations

import asyncio
import logging

import pytest

from flows.launch import Onboardings
from parsers.form import form_json
from store import crud
from store.db import session_scope
from store.models import RequestState
from web.submit import submit_form

RAW = form_json(
    company="Acme Parking", contact_email="jane@acme.example", spots=[("Lot A", "14283")]
)


async def test_a_running_onboarding_is_held_until_it_ends(store) -> None:
    release = asyncio.Event()

    async def launch(request_id: int) -> asyncio.Task[object]:
        return asyncio.create_task(release.wait())

    onboardings = Onboardings(launch)
    request_id, state, created = await submit_form(RAW, onboardings=onboardings)
    assert (state, created) == (RequestState.received, True)
    assert list(onboardings.running.values()) == [request_id]
    release.set()
    await asyncio.sleep(0.01)
    assert onboardings.running == {}


async def test_an_onboarding_that_fails_is_logged(store, caplog) -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    async def launch(request_id: int) -> asyncio.Task[object]:
        return asyncio.create_task(boom())

    onboardings = Onboardings(launch)
    with caplog.at_level(logging.ERROR, logger="flows.launch"):
        request_id, _, _ = await submit_form(RAW, onboardings=onboardings)
        await asyncio.sleep(0.01)
    assert f"The onboarding of request {request_id} ended with an error" in caplog.text
    assert "boom" in caplog.text


async def test_an_onboarding_that_cannot_start_marks_the_request_failed(store) -> None:
    async def launch(request_id: int) -> None:
        raise ConnectionError("no Prefect API")

    request_id, _, _ = await submit_form(RAW, onboardings=Onboardings(launch))
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
    assert request.state == RequestState.failed
    assert "no Prefect API" in (request.reason or "")
    assert f"hotspot-onboard retry {request_id}" in (request.reason or "")


async def test_shutdown_waits_then_cancels(store) -> None:
    async def launch(request_id: int) -> asyncio.Task[object]:
        return asyncio.create_task(asyncio.sleep(60))

    onboardings = Onboardings(launch)
    await submit_form(RAW, onboardings=onboardings)
    [task] = onboardings.running
    await onboardings.wait(0.05)
    assert task.cancelled()


@pytest.mark.parametrize("sender", ["mallory@elsewhere.example", "bob@harbor.example"])
async def test_a_held_request_starts_nothing(store, sender: str) -> None:
    started: list[int] = []

    async def launch(request_id: int) -> None:
        started.append(request_id)

    raw = form_json(company="Acme Parking", contact_email=sender, spots=[("Lot A", "14283")])
    _, state, _ = await submit_form(raw, onboardings=Onboardings(launch))
    assert state == RequestState.held and started == []
