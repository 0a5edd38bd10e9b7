"""The checks as you type: a small HotSpot budget per link, the shared HotSpot limiter, and
nothing said about spots of operators other than the company's own."""

from __future__ import annotations

from settings import settings
from tasks.policy import StorePace
from tests.web.conftest import Web, link, spot_calls
from web.checks import LINK_BURST

CONFIRMED_LATER = "Offstreet will confirm this SpotID with HotSpot after you submit."
UNKNOWN_18000 = (
    "HotSpot has no spot with SpotID 18000. Check the number with your parking operator."
)


async def check(web: Web, path: str, spot_id: str, location: str = "Lot A"):  # type: ignore[no-untyped-def]
    return await web.client.get(
        f"{path}/check", params={"row": "0", "location": location, "spot_id": spot_id}
    )


async def test_each_link_has_a_small_budget_of_hotspot_lookups(web: Web, hotspot) -> None:
    path = link("Acme Parking")
    for n in range(LINK_BURST):
        assert (await check(web, path, str(91000 + n))).status_code == 200
    assert spot_calls(hotspot) == LINK_BURST

    refused = await check(web, path, "92000")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert spot_calls(hotspot) == LINK_BURST, "a refused check never reaches HotSpot"
    remembered = await check(web, path, "91000")
    assert remembered.status_code == 200, "answers already known cost nothing"

    another_link = link("Acme Parking", days=2)  # another link, another budget
    assert (await check(web, another_link, "92000")).status_code == 200


async def test_checks_go_through_the_shared_hotspot_limiter(web: Web, hotspot, monkeypatch) -> None:
    taken: list[float] = []
    acquire = StorePace.acquire

    async def counted(pace: StorePace) -> None:
        taken.append(pace.interval)
        await acquire(pace)  # a slot taken in the store, as every worker's calls take theirs

    monkeypatch.setattr(StorePace, "acquire", counted)
    monkeypatch.setattr(settings, "hotspot_rate_limit", 50.0)
    response = await check(web, link("Acme Parking"), "14283")
    assert response.json()["note"] == "HotSpot knows this spot: Lot A."
    assert len(taken) == 1


async def test_spots_of_other_operators_are_never_named(web: Web, hotspot) -> None:
    harbor = await check(web, link("Harbor Lots"), "18000", location="Riverside P1")
    assert harbor.json()["note"] == "HotSpot knows this spot: Riverside P1."

    acme = await check(web, link("Acme Parking"), "18000")  # Riverside Lots' spot
    assert acme.json() == {"row": 0, "ok": True, "error": None, "note": CONFIRMED_LATER}
    inactive = await check(web, link("Harbor Lots"), "19999", location="Riverside P1")
    assert inactive.json()["note"] == CONFIRMED_LATER  # not even whether it is active
    unknown = await check(web, link("Acme Parking"), "99999")
    assert unknown.json()["error"] == UNKNOWN_18000.replace("18000", "99999")

    path, csrf = await web.open_form()
    body = {"csrf_token": csrf, "contact_email": "jane@acme.example"}
    page = await web.client.post(path, data=body | {"location": "Lot A", "spot_id": "18000"})
    assert page.status_code == 303  # submitted: the pipeline holds it for ops to confirm
    status = await web.client.get(page.headers["location"])
    assert "Riverside" not in status.text
