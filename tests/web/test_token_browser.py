"""The token link in a real browser against `hotspot-onboard serve` as a real process: the
email's link, a wrong token refused with HotSpot's answer, the right one, and the request
live. With WEB_SCREENSHOTS_DIR set, the README's screenshots of the page are saved too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, expect

from store import crud
from store.db import session_scope
from store.models import RequestState
from testing.browser import CHROMIUM, chromium
from testing.demo import ACME_TOKEN
from tests.servers.smtp import SmtpCapture
from tests.web.server import WebServer
from tests.web.test_browser import screenshot
from tests.web.test_token_link import token_link_mail, waiting_request

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium: bash tests/web/install_chromium.sh"
)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


@pytest.fixture
def server(store, hotspot) -> Iterator[WebServer]:  # type: ignore[no-untyped-def]
    with WebServer(hotspot_url=hotspot.url) as web_server:
        yield web_server


async def test_the_customer_gives_the_token_in_a_browser(
    browser: Browser, server: WebServer, mail: SmtpCapture, hotspot
) -> None:
    request_id = await waiting_request(mail)
    path, _ = token_link_mail(mail)
    page = await browser.new_page(viewport={"width": 900, "height": 900})

    await page.goto(server.url + path)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your company's HotSpot token")
    field = page.get_by_label("HotSpot company token")
    await expect(field).to_have_attribute("type", "password")
    await screenshot(page, "token-page")

    await field.fill("not-our-token")
    await page.get_by_role("button", name="Send the token").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "HotSpot did not accept this token: company token not accepted by Northgate Parking"
    )
    await expect(field).to_have_value("")
    await screenshot(page, "token-refused")

    await page.get_by_label("HotSpot company token").fill(ACME_TOKEN)
    await page.get_by_role("button", name="Send the token").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: token received")

    for _ in range(120):  # the server's in-process run goes on from the token to live
        with session_scope() as session:
            state = crud.get_request(session, request_id=request_id).state
        if state == RequestState.live:
            break
        await asyncio.sleep(0.5)
    assert state == RequestState.live

    await page.goto(server.url + path)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Token already received")


async def test_the_customer_confirms_proposed_spot_ids_in_a_browser(
    browser: Browser, server: WebServer, mail: SmtpCapture, hotspot
) -> None:
    from parsers import parse_any
    from tasks.discovery import propose_spot_ids
    from tasks.intake import record_request
    from tests.inbox.test_find_spot_ids import ASK, LINK
    from tests.inbox.test_status_questions import question

    raw = question(ASK)
    request_id = record_request(raw, parse_any(raw))
    assert await propose_spot_ids(request_id)
    [match] = LINK.finditer(mail.messages[0].message.get_content())
    page = await browser.new_page(viewport={"width": 900, "height": 900})

    await page.goto(f"{server.url}/f/{match.group(1)}/spot-ids")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your SpotIDs")
    await expect(page.get_by_role("checkbox")).to_have_count(2)  # Lot A, Lot D; not Zoo Lot
    await screenshot(page, "spot-ids-proposed")
    await page.get_by_role("button", name="Confirm these SpotIDs").click()

    await expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=60_000)
