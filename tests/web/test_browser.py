"""A real browser against a real server: Debian's Chromium, driven by Playwright.

A customer opens the signed link, fills the form (checked as they type), submits, and the
status page follows the request to live against the sandbox. Once with JavaScript, once
without. With WEB_SCREENSHOTS_DIR set, the README's screenshots are saved there too.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from testing.browser import CHROMIUM, chromium
from tests.web.conftest import link
from tests.web.server import WebServer

SCREENSHOTS = os.environ.get("WEB_SCREENSHOTS_DIR")
LIVE_TIMEOUT_MS = 60_000

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


async def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


async def spot_input(page: Page, location: str) -> tuple[Locator, Locator]:
    """The SpotID field of the row whose location is selected as given."""
    rows = page.locator("[data-row]")
    for index in range(await rows.count()):
        row = rows.nth(index)
        if await row.locator("select").input_value() == location:
            return row.locator("input[name=spot_id]"), row.locator(".message")
    raise AssertionError(f"no row for {location}")


async def test_a_customer_sends_spot_ids_and_watches_them_go_live(
    browser: Browser, server: WebServer, hotspot
) -> None:
    page = await browser.new_page(viewport={"width": 900, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    await page.goto(server.url + link("Acme Parking"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Connect your locations to HotSpot"
    )
    await page.get_by_label("Your work email").fill("jane@acme.example")

    # Checked as they type: format, duplicates, HotSpot; then fixed.
    garage, garage_says = await spot_input(page, "Garage C")
    await garage.fill("12ab")
    await expect(garage_says).to_contain_text("'12ab' is not a SpotID: use digits only")
    await expect(garage).to_have_attribute("aria-invalid", "true")
    await garage.fill("16001")
    await expect(garage_says).to_have_text("HotSpot knows this spot: Garage C.")
    lot_a, lot_a_says = await spot_input(page, "Lot A")
    await lot_a.fill("16001")
    await expect(lot_a_says).to_contain_text("SpotID 16001 is also given for Garage C")
    await lot_a.fill("14283")
    await expect(lot_a_says).to_have_text("HotSpot knows this spot: Lot A.")
    lot_d, lot_d_says = await spot_input(page, "Lot D")
    await lot_d.fill("99999")
    await expect(lot_d_says).to_contain_text("HotSpot has no spot with SpotID 99999")
    await screenshot(page, "form-checks")
    await lot_d.fill("17777")
    await expect(lot_d_says).to_have_text("HotSpot knows this spot: Lot D.")

    # A row is added in the page, without a round trip.
    url = page.url
    await page.get_by_role("button", name="Add a row").click()
    await expect(page.locator("[data-row]")).to_have_count(5)
    await expect(page.get_by_label("Location, row 5")).to_be_focused()
    assert page.url == url

    if SCREENSHOTS:  # slow the sandbox down so the steps can be seen on the way
        hotspot.configure(delay=5)
    await page.get_by_role("button", name="Send SpotIDs").click()
    await expect(page).to_have_url(re.compile(r"/requests/\d+\?sent=1$"))
    await expect(page.get_by_role("status")).to_contain_text("Thank you, your request is in.")
    if SCREENSHOTS:
        await expect(page.locator("#status")).to_have_attribute(
            "data-state", "test_issued", timeout=LIVE_TIMEOUT_MS
        )
        await screenshot(page, "status-in-progress")

    status = page.locator("#status")
    await expect(status).to_have_attribute("data-state", "live", timeout=LIVE_TIMEOUT_MS)
    rows = page.locator("table.spots tbody tr")
    await expect(rows).to_have_count(3)
    for location in ("Garage C", "Lot A", "Lot D"):
        row = rows.filter(has=page.get_by_role("rowheader", name=location))
        await expect(row.locator(".status-label")).to_have_text("Live")
    await screenshot(page, "status-live")
    assert problems == [], "no script errors or CSP violations"
    assert {p["spot_id"] for p in hotspot.state()["permits"]} == {"16001", "14283", "17777"}


async def test_the_form_works_without_javascript(
    browser: Browser, server: WebServer, hotspot
) -> None:
    context = await browser.new_context(
        java_script_enabled=False, viewport={"width": 900, "height": 900}
    )
    page = await context.new_page()
    await page.goto(server.url + link("Acme Parking"))
    await page.get_by_label("Your work email").fill("not-an-address")
    lot_a, _ = await spot_input(page, "Lot A")
    await lot_a.fill("19999")

    await page.get_by_role("button", name="Add a row").click()  # a round trip instead
    await expect(page.locator("[data-row]")).to_have_count(5)
    await page.get_by_role("button", name="Send SpotIDs").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Please fix 2 problems")
    await expect(summary).to_contain_text("Enter your work email address")
    await expect(summary).to_contain_text("SpotID 19999 (Old Lot) is inactive in HotSpot")
    await screenshot(page, "form-errors")

    await page.get_by_label("Your work email").fill("jane@acme.example")
    lot_a, _ = await spot_input(page, "Lot A")
    await lot_a.fill("14283")
    await page.get_by_role("button", name="Send SpotIDs").click()
    await expect(page).to_have_url(re.compile(r"/requests/\d+\?sent=1$"))
    # <noscript><meta refresh>: the page reloads itself until the request is final.
    await expect(page.locator("#status")).to_have_attribute(
        "data-state", "live", timeout=LIVE_TIMEOUT_MS
    )
    await context.close()
