"""The customer's form, in process: links, CSRF, checks with messages, submit to live."""

from __future__ import annotations

import html
import re
import time

from pydantic import SecretStr

from settings import settings
from store import crud
from store.db import session_scope
from store.models import RequestState
from tests.web.conftest import Web, csrf_of, link, spot_calls
from trust.links import make_token

ACME_ROWS = {"Lot A": "14283", "Garage C": "16001", "Lot D": "17777"}


def form_body(
    csrf: str, rows: dict[str, str], *, email: str = "jane@acme.example", **extra: str
) -> dict[str, object]:
    return {
        "csrf_token": csrf,
        "contact_email": email,
        "location": list(rows),
        "spot_id": list(rows.values()),
        **extra,
    }


def errors_on(page: str) -> list[str]:
    """The row messages marked as errors, as the customer reads them."""
    found = re.findall(r'<span class="error">([^<]+)', page)
    return [html.unescape(re.sub(r"\s+", " ", message)) for message in found]


async def test_form_lists_the_company_locations_only(web: Web) -> None:
    acme = await web.client.get(link("Acme Parking"))
    harbor = await web.client.get(link("Harbor Lots"))

    assert acme.status_code == harbor.status_code == 200
    for name in ("Lot A", "Lot B", "Garage C", "Lot D"):
        assert f"<option selected>{name}</option>" in acme.text
        assert name not in harbor.text
    assert "Riverside" not in acme.text
    assert acme.headers["cache-control"] == "no-store"
    assert acme.headers["referrer-policy"] == "no-referrer"
    assert "httponly" in acme.headers["set-cookie"].lower()


async def test_forged_links_are_refused(web: Web) -> None:
    good = link("Acme Parking").removeprefix("/f/")
    company, expiry, signature = good.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    forged = [
        f"{company}.{expiry}.{flipped}",  # tampered signature
        f"2.{expiry}.{signature}",  # another company, same signature
        f"{company}.{int(expiry) + 86400}.{signature}",  # a longer life, same signature
        "1.2.3",
        "not-a-link",
    ]
    for token in forged:
        for path in (
            f"/f/{token}",
            f"/f/{token}/check?spot_id=1&location=a",
            f"/f/{token}/requests/1",
        ):
            response = await web.client.get(path)
            assert response.status_code == 403, path
            assert "incomplete or was altered" in response.text


async def test_a_link_signed_with_another_key_is_refused(web: Web, monkeypatch) -> None:
    path = link("Acme Parking")
    monkeypatch.setattr(settings, "form_link_secret", SecretStr("a-new-key-voids-old-links"))
    response = await web.client.get(path)
    assert response.status_code == 403


async def test_an_expired_link_is_refused(web: Web) -> None:
    token = make_token(1, days=7, now=time.time() - 8 * 86400)
    response = await web.client.get(f"/f/{token}")
    assert response.status_code == 403
    assert "expired" in response.text and "new link" in response.text


async def test_posts_without_the_served_csrf_token_are_refused(web: Web) -> None:
    path, csrf = await web.open_form()
    _, harbor_csrf = await web.open_form("Harbor Lots")
    for body in (
        form_body("", ACME_ROWS),
        form_body("forged-token", ACME_ROWS),
        form_body(harbor_csrf, ACME_ROWS),  # served with another link
        {k: v for k, v in form_body(csrf, ACME_ROWS).items() if k != "csrf_token"},
    ):
        response = await web.client.post(path, data=body)
        assert response.status_code == 403, body
        assert "not sent from the page we served" in response.text

    web.client.cookies.clear()  # the right token, but not from this browser
    response = await web.client.post(path, data=form_body(csrf, ACME_ROWS))
    assert response.status_code == 403
    assert "session cookie" in response.text
    with session_scope() as session:
        assert not crud.list_requests(session)


async def test_bad_input_is_shown_with_how_to_fix_it(web: Web, hotspot) -> None:
    path, csrf = await web.open_form()
    rows = {"Lot A": "14283", "Lot B": "14283", "Garage C": "12ab", "Lot D": "99999"}
    response = await web.client.post(path, data=form_body(csrf, rows, email="jane"))

    assert response.status_code == 422
    assert "Please fix 5 problems" in response.text
    assert errors_on(response.text) == [
        "Enter your work email address, like name@company.com.",
        "SpotID 14283 is also given for Lot B: each location has its own SpotID.",
        "SpotID 14283 is also given for Lot A: each location has its own SpotID.",
        "'12ab' is not a SpotID: use digits only (3 to 8 of them, like 14283).",
        "HotSpot has no spot with SpotID 99999. Check the number with your parking operator.",
    ]
    assert 'value="12ab"' in response.text, "what was typed is kept"
    with session_scope() as session:
        assert not crud.list_requests(session)


async def test_inactive_unknown_location_and_empty_forms(web: Web, hotspot) -> None:
    path, csrf = await web.open_form()
    response = await web.client.post(
        path, data=form_body(csrf, {"Lot A": "19999", "Lot Z": "16001", "Lot D": "12"})
    )
    assert response.status_code == 422
    assert errors_on(response.text) == [
        "SpotID 19999 (Old Lot) is inactive in HotSpot: ask your parking operator to "
        "activate it, then submit again.",
        "Acme Parking has no location named 'Lot Z'. Choose one of: Garage C, Lot A, Lot B, Lot D.",
        "A SpotID has 3 to 8 digits; '12' has 2. Check the number.",
    ]

    empty = await web.client.post(path, data=form_body(csrf, {"Lot A": ""}))
    assert empty.status_code == 422
    assert "Enter at least one SpotID." in empty.text


async def test_malformed_spot_ids_never_reach_hotspot(web: Web, hotspot) -> None:
    path, csrf = await web.open_form()
    await web.client.post(path, data=form_body(csrf, {"Lot A": "12ab", "Lot B": "1"}))
    await web.client.get(f"{path}/check", params={"location": "Lot A", "spot_id": "x1"})
    assert spot_calls(hotspot) == 0


async def test_add_a_row_without_javascript(web: Web) -> None:
    path, csrf = await web.open_form()
    response = await web.client.post(
        path, data=form_body(csrf, {"Lot A": "14283"}, action="add_row")
    )
    assert response.status_code == 200
    assert 'id="spot_id-1"' in response.text and 'id="spot_id-2"' not in response.text
    assert 'value="14283"' in response.text and 'value="jane@acme.example"' in response.text


async def test_check_as_you_type(web: Web, hotspot) -> None:
    path, _ = await web.open_form()

    async def check(row: int, rows: list[tuple[str, str]]) -> dict[str, object]:
        params = [("row", str(row))]
        for location, spot_id in rows:
            params += [("location", location), ("spot_id", spot_id)]
        response = await web.client.get(f"{path}/check", params=params)
        assert response.status_code == 200
        return response.json()

    ok = await check(0, [("Lot A", "14283")])
    assert ok == {"row": 0, "ok": True, "error": None, "note": "HotSpot knows this spot: Lot A."}
    duplicate = await check(1, [("Lot A", "14283"), ("Lot B", "14283")])
    assert (
        duplicate["error"]
        == "SpotID 14283 is also given for Lot A: each location has its own SpotID."
    )
    unknown = await check(0, [("Lot A", "99999")])
    assert "HotSpot has no spot with SpotID 99999" in unknown["error"]
    assert (await check(0, [("Lot A", "")]))["ok"] is True

    calls = spot_calls(hotspot)
    await check(0, [("Lot A", "14283")])
    await check(0, [("Lot A", "99999")])
    assert spot_calls(hotspot) == calls, "answers are cached for a minute"
    response = await web.client.get(f"{path}/check", params={"row": 3, "spot_id": "1"})
    assert response.status_code == 400


async def test_submit_starts_the_onboarding_and_the_status_page_follows_it(
    web: Web, hotspot
) -> None:
    path, csrf = await web.open_form()
    response = await web.client.post(path, data=form_body(csrf, ACME_ROWS | {"Lot B": ""}))

    assert response.status_code == 303
    status_path = response.headers["location"]
    assert re.fullmatch(rf"{re.escape(path)}/requests/\d+\?sent=1", status_path)
    first = await web.client.get(status_path)
    assert "Thank you, your request is in." in first.text
    assert '<meta http-equiv="refresh" content="3">' in first.text

    await web.onboardings_done()
    final = await web.client.get(status_path)
    assert 'data-state="live"' in final.text
    assert final.text.count('step-4">Live</span>') == 3
    assert "http-equiv" not in final.text, "a final page stops refreshing"
    assert sorted(p["spot_id"] for p in hotspot.state()["permits"]) == sorted(ACME_ROWS.values())

    again = await web.client.post(path, data=form_body(csrf, ACME_ROWS | {"Lot B": ""}))
    assert again.headers["location"] == status_path, "the same form twice is one request"


async def test_an_address_that_is_not_the_company_contact_is_held(web: Web, hotspot) -> None:
    path, csrf = await web.open_form()
    response = await web.client.post(
        path, data=form_body(csrf, {"Lot A": "14283"}, email="mallory@elsewhere.example")
    )
    assert response.status_code == 303
    page = await web.client.get(response.headers["location"])

    assert "Held for Offstreet's review" in html.unescape(page.text)
    assert not web.app.state.onboardings.running
    assert "mallory@" not in page.text and "hotspot-onboard" not in page.text
    assert hotspot.state()["permits"] == []


async def test_another_company_contact_typed_in_a_form_stays_the_links_company(
    web: Web, hotspot
) -> None:
    path, csrf = await web.open_form()  # Acme's link
    response = await web.client.post(
        path, data=form_body(csrf, {"Lot A": "14283"}, email="ops@harbor.example")
    )
    status_path = response.headers["location"].split("?")[0]
    request_id = int(status_path.rsplit("/", 1)[1])

    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        assert request.state == RequestState.held
        assert crud.get_company(session, company_id=request.company_id).name == "Acme Parking"
        assert request.reply_to is None  # Harbor's contact is not Acme's: never written to
    harbor = link("Harbor Lots")
    assert (await web.client.get(f"{harbor}/requests/{request_id}")).status_code == 404
    assert (await web.client.get(status_path)).status_code == 200
    assert hotspot.state()["permits"] == []


async def test_a_company_sees_no_other_company_request(web: Web, hotspot) -> None:
    path, csrf = await web.open_form()
    response = await web.client.post(path, data=form_body(csrf, {"Lot A": "14283"}))
    status_path = response.headers["location"].split("?")[0]
    request_id = status_path.rsplit("/", 1)[1]

    harbor = link("Harbor Lots")
    assert (await web.client.get(f"{harbor}/requests/{request_id}")).status_code == 404
    assert (await web.client.get(f"{path}/requests/999")).status_code == 404
    assert (await web.client.get(f"{path}/requests/{2**80}")).status_code == 422
    assert (await web.client.get(status_path)).status_code == 200


async def test_the_status_page_shows_nothing_secret(web: Web, hotspot, give_token) -> None:
    give_token("Acme Parking", "nt-acme-7Qx9c2VfLk")
    path, csrf = await web.open_form()
    response = await web.client.post(path, data=form_body(csrf, {"Lot B": "15320"}))
    await web.onboardings_done()
    page = (await web.client.get(response.headers["location"])).text

    assert 'data-state="live"' in page
    for secret in ("nt-acme-7Qx9c2VfLk", "jane@acme.example", csrf, "sandbox-partner-key"):
        assert secret not in page
    assert csrf_of((await web.client.get(path)).text)  # the form itself still works
