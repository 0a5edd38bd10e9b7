"""Fixtures for the web app: an in-process client, signed links and a staff key."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from settings import settings
from store import crud
from store.db import session_scope
from trust.links import make_token
from web.app import create_app

STAFF_KEY = "staff-key-for-the-tests-0123456789"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def link(company: str, *, days: float | None = None) -> str:
    """The path of a freshly signed form link for the company."""
    with session_scope() as session:
        found = crud.get_company_by_name(session, name=company)
        assert found is not None and found.id is not None
        company_id = found.id
    return f"/f/{make_token(company_id, days=days)}"


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, "the form carries no CSRF token"
    return match.group(1)


def spot_calls(sandbox) -> int:  # type: ignore[no-untyped-def]
    """How many spot lookups the sandbox has answered."""
    requests = sandbox.state()["requests"]
    return sum(sum(by_status.values()) for route, by_status in requests.items() if "spots" in route)


@dataclass
class Web:
    """The app with a client that keeps cookies, as a browser would."""

    app: FastAPI
    client: httpx.AsyncClient

    async def open_form(self, company: str = "Acme Parking") -> tuple[str, str]:
        """Open the company's link: (its path, the CSRF token served with it)."""
        path = link(company)
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        return path, csrf_of(page.text)

    async def onboardings_done(self, timeout: float = 60) -> None:
        running = set(self.app.state.onboardings.running)
        if running:
            _, pending = await asyncio.wait(running, timeout=timeout)
            assert not pending, "an onboarding did not finish in time"


@pytest.fixture
def staff_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(settings, "staff_api_keys", SecretStr(STAFF_KEY))
    return STAFF_KEY


@pytest.fixture
async def web(store, hotspot, staff_key) -> AsyncIterator[Web]:  # type: ignore[no-untyped-def]
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        web = Web(app=app, client=client)
        yield web
        await web.onboardings_done()
