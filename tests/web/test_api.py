"""The staff JSON API: keys, the form JSON in, the same intake and flow, outcomes out."""

from __future__ import annotations

from pydantic import SecretStr

from settings import settings
from tests.web.conftest import STAFF_KEY, Web

STAFF = {"X-API-Key": STAFF_KEY}
ACME = {
    "company": "Acme Parking",
    "contact_email": "jane@acme.example",
    "spots": [
        {"location": "Lot A", "spot_id": "14283"},
        {"location": "Garage C", "spot_id": 16001},
    ],
}


async def test_calls_without_a_valid_key_are_refused(web: Web, monkeypatch) -> None:
    for headers in ({}, {"X-API-Key": ""}, {"X-API-Key": STAFF_KEY[:-1]}):
        for response in (
            await web.client.post("/api/requests", json=ACME, headers=headers),
            await web.client.get("/api/requests/1", headers=headers),
        ):
            assert response.status_code == 401
            assert response.json() == {"detail": "send a valid staff key in the X-API-Key header"}
    monkeypatch.setattr(settings, "staff_api_keys", None)
    response = await web.client.get("/api/requests/1", headers=STAFF)
    assert response.status_code == 401, "no keys configured: the API is closed"


async def test_a_second_key_works_too(web: Web, monkeypatch) -> None:
    other = "another-staff-key-0123456789"
    monkeypatch.setattr(settings, "staff_api_keys", SecretStr(f"{STAFF_KEY}, {other}"))
    response = await web.client.get("/api/requests/1", headers={"X-API-Key": other})
    assert response.status_code == 404


async def test_a_request_goes_live_and_sending_it_again_is_the_same_request(
    web: Web, hotspot
) -> None:
    created = await web.client.post("/api/requests", json=ACME, headers=STAFF)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["company"] == "Acme Parking" and body["state"] == "received"
    assert created.headers["location"] == f"/api/requests/{body['request_id']}"

    await web.onboardings_done()
    outcome = (await web.client.get(created.headers["location"], headers=STAFF)).json()
    assert outcome["state"] == "live"
    assert [(s["spot_id"], s["status"]) for s in outcome["spots"]] == [
        ("14283", "live"),
        ("16001", "live"),
    ]

    again = await web.client.post("/api/requests", json=ACME, headers=STAFF)
    assert again.status_code == 200
    assert again.json()["request_id"] == body["request_id"]


async def test_staff_may_name_any_company_and_intake_rules_still_hold(web: Web, hotspot) -> None:
    harbor = {
        "company": "Harbor Lots",
        "contact_email": "someone@elsewhere.example",
        "spots": [{"location": "Riverside P1", "spot_id": "18000"}],
    }
    response = await web.client.post("/api/requests", json=harbor, headers=STAFF)
    assert response.status_code == 201
    assert response.json()["state"] == "held"
    assert "someone@elsewhere.example is not a contact of Harbor Lots" in response.json()["reason"]
    assert not web.app.state.onboardings.running


async def test_refused_spot_ids_come_back_with_reasons(web: Web, hotspot) -> None:
    body = ACME | {"spots": [{"location": "Lot A", "spot_id": "99999"}]}
    response = await web.client.post("/api/requests", json=body, headers=STAFF)
    await web.onboardings_done()
    outcome = (await web.client.get(response.headers["location"], headers=STAFF)).json()
    assert outcome["state"] == "rejected"
    assert outcome["spots"][0]["reason"].startswith("unknown to HotSpot")


async def test_bad_bodies_get_422_naming_the_field(web: Web) -> None:
    cases = {
        "company": ACME | {"company": "Nobody Inc"},
        "contact_email": ACME | {"contact_email": "jane"},
        "spots": ACME | {"spots": []},
        "location": ACME | {"spots": [{"location": " ", "spot_id": "14283"}]},
    }
    for field, body in cases.items():
        response = await web.client.post("/api/requests", json=body, headers=STAFF)
        assert response.status_code == 422, field
        [error] = response.json()["detail"]
        assert field in " ".join(map(str, error["loc"])) + error["msg"], error
    response = await web.client.post(
        "/api/requests", content=b"not json", headers=STAFF | {"Content-Type": "application/json"}
    )
    assert response.status_code == 422


async def test_unknown_requests_are_404(web: Web) -> None:
    response = await web.client.get("/api/requests/12345", headers=STAFF)
    assert response.status_code == 404
    assert response.json() == {"detail": "no onboarding request 12345"}


async def test_the_openapi_schema_describes_the_api(web: Web) -> None:
    schema = (await web.client.get("/api/openapi.json")).json()
    assert set(schema["paths"]) == {"/api/requests", "/api/requests/{request_id}"}
    assert schema["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "One of the keys in OFFSTREET_API_KEYS (Offstreet staff and tools only).",
    }
    body = schema["components"]["schemas"]["FormRequest"]
    assert body["required"] == ["company", "contact_email", "spots"]
