"""The onboarding flow against the sandbox, over real HTTP, on a real SQLite store."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows.onboard_request import onboard_request
from parsers import parse_any
from parsers.form import form_json
from settings import PROJECT_DIR, settings
from store import crud
from store.db import migrate, session_scope
from store.models import MappingState, PermitState
from store.schemas import RequestOutcome
from tasks.intake import record_request
from testing.demo import ACME_TOKEN


def form(
    spots: dict[str, str], *, sender: str = "jane@acme.example", company: str = "Acme Parking"
) -> bytes:
    return form_json(company=company, contact_email=sender, spots=list(spots.items()))


def submit(raw: bytes) -> int:
    return record_request(raw, parse_any(raw))


async def onboard(request_id: int, *, verify_timeout: float = 10.0) -> RequestOutcome:
    await onboard_request(request_id, verify_timeout, return_state=True)
    with session_scope() as session:
        return crud.request_outcome(session, request_id=request_id)


def permits_by_spot(sandbox) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(permit["spot_id"] for permit in sandbox.state()["permits"])


def statuses(outcome: RequestOutcome) -> dict[str, str]:
    return {spot.spot_id: spot.status for spot in outcome.spots}


async def test_template_email_goes_live(store, hotspot, give_token) -> None:
    give_token("Acme Parking", ACME_TOKEN)
    request_id = submit((PROJECT_DIR / "demo/request.eml").read_bytes())

    outcome = await onboard(request_id)

    assert outcome.state == "live", outcome.reason
    assert statuses(outcome) == {"14283": "live", "15320": "live"}
    assert permits_by_spot(hotspot) == {"14283": 1, "15320": 1}
    assert {p["status"] for p in hotspot.state()["permits"]} == {"revoked"}
    with session_scope() as session:
        [(company, integration)] = crud.list_integrations(session)
        assert (company.name, integration.state.value) == ("Acme Parking", "live")


async def test_running_again_changes_nothing(store, hotspot) -> None:
    request_id = submit(form({"Lot A": "14283", "Garage C": "16001"}))
    assert (await onboard(request_id)).state == "live"
    before = hotspot.state()["permits"]

    rerun = await onboard(request_id)
    repeat = await onboard(submit(form({"Garage C": "16001", "Lot A": "14283"})))

    assert rerun.state == "live"
    assert repeat.state == "live" and set(statuses(repeat).values()) == {"already_live"}
    assert hotspot.state()["permits"] == before


async def test_a_later_request_adds_locations_to_the_integration(store, hotspot) -> None:
    assert (await onboard(submit(form({"Lot A": "14283"})))).state == "live"
    later = await onboard(submit(form({"Lot A": "14283", "Lot D": "17777"})))

    assert statuses(later) == {"14283": "already_live", "17777": "live"}
    assert permits_by_spot(hotspot) == {"14283": 1, "17777": 1}
    with session_scope() as session:
        assert len(crud.list_integrations(session)) == 1


@pytest.mark.parametrize(
    ("spots", "refused_spot", "reason"),
    [
        ({"Lot A": "14283", "Lot B": "99999"}, "99999", "unknown to HotSpot"),
        ({"Lot A": "14283", "Lot B": "19999"}, "19999", "inactive in HotSpot"),
        ({"Lot A": "14283", "Lot B": "12ab"}, "12ab", "not a SpotID"),
        ({"Lot A": "14283", "Lot B": "14283"}, "14283", "more than once"),
    ],
)
async def test_bad_spot_refuses_the_whole_request(
    store, hotspot, spots: dict[str, str], refused_spot: str, reason: str
) -> None:
    outcome = await onboard(submit(form(spots)))

    assert outcome.state == "rejected"
    assert any(s.spot_id == refused_spot and reason in (s.reason or "") for s in outcome.spots)
    assert hotspot.state()["permits"] == []
    with session_scope() as session:
        assert crud.list_integrations(session) == []


async def test_unknown_location_waits_on_ops_with_nothing_applied(store, hotspot) -> None:
    outcome = await onboard(submit(form({"Lot A": "14283", "Lot Z": "16001"})))

    assert outcome.state == "waiting_on_ops"
    assert statuses(outcome) == {"14283": "accepted", "16001": "unknown_location"}
    assert "no location named 'Lot Z'" in (outcome.reason or "")
    assert hotspot.state()["permits"] == []


async def test_spot_of_another_company_is_never_remapped(store, hotspot) -> None:
    harbor = form({"Riverside P1": "18000"}, sender="ops@harbor.example", company="Harbor Lots")
    assert (await onboard(submit(harbor))).state == "live"

    outcome = await onboard(submit(form({"Lot A": "14283", "Lot D": "18000"})))

    assert outcome.state == "rejected"
    assert "mapped to Harbor Lots already; Acme Parking asked" in (outcome.spots[1].reason or "")
    assert "contact Offstreet support" in (outcome.spots[1].customer_reason or "")
    with session_scope() as session:
        mapping = crud.mappings_by_spot(session, spot_ids=["18000"])["18000"]
        assert crud.get_company(session, company_id=mapping.company_id).name == "Harbor Lots"
    assert permits_by_spot(hotspot) == {"18000": 1}


@pytest.mark.parametrize(
    ("sender", "company", "why"),
    [
        ("eve@evil.example", "Acme Parking", "eve@evil.example is not a contact of Acme Parking"),
        ("ops@harbor.example", "Acme Parking", "ops@harbor.example is not a contact of Acme"),
        ("jane@acme.example", "Nobody Parking", "the form names no known company"),
    ],
)
async def test_who_may_not_ask_is_held_for_approval(
    store, hotspot, sender: str, company: str, why: str
) -> None:
    raw = json.dumps(
        {
            "company": company,
            "contact_email": sender,
            "spots": [{"location": "Lot A", "spot_id": "14283"}],
        }
    ).encode()
    outcome = await onboard(submit(raw))

    assert outcome.state == "held"
    assert why in (outcome.reason or "") and "hotspot-onboard approve" in (outcome.reason or "")
    assert hotspot.state()["permits"] == []


async def test_faults_are_survived_without_duplicates(store, hotspot) -> None:
    hotspot.configure(error_rate=0.3, lost_response_rate=0.3, rate_limit=10)
    spots = {"Lot A": "14283", "Garage C": "16001", "Lot D": "17777"}

    outcome = await onboard(submit(form(spots)), verify_timeout=20)

    assert outcome.state == "live", outcome.reason
    assert permits_by_spot(hotspot) == {"14283": 1, "16001": 1, "17777": 1}
    counters = hotspot.state()
    assert counters["rate_limited"] > 0 or counters["errors_injected"] > 0


async def test_missing_token_waits_on_ops_then_goes_live(store, hotspot, give_token) -> None:
    request_id = submit(form({"Lot A": "14283", "Lot B": "15320"}))

    waiting = await onboard(request_id, verify_timeout=2)

    assert waiting.state == "waiting_on_ops"
    assert statuses(waiting) == {"14283": "live", "15320": "waiting_on_ops"}
    assert 'hotspot-onboard token "Acme Parking"' in (waiting.reason or "")

    give_token("Acme Parking", ACME_TOKEN)
    live = await onboard(request_id)

    assert live.state == "live", live.reason
    with session_scope() as session:
        first, second = crud.permits_for_spot(session, spot_id="15320")
    assert (first.with_company_token, second.with_company_token) == (False, True)
    assert first.state == second.state == PermitState.revoked
    assert first.revoked_at <= second.created_at  # never two active test permits at a spot
    assert permits_by_spot(hotspot) == {"14283": 1, "15320": 2}


async def test_wrong_token_asks_ops_again(store, hotspot, give_token) -> None:
    give_token("Acme Parking", "not-the-right-token")
    outcome = await onboard(submit(form({"Lot B": "15320"})), verify_timeout=2)

    assert outcome.state == "waiting_on_ops"
    assert "refused the company's token" in (outcome.spots[0].reason or "")
    with session_scope() as session:
        mapping = crud.mappings_by_spot(session, spot_ids=["15320"])["15320"]
        assert mapping.state == MappingState.waiting_on_ops


async def test_hotspot_outage_fails_the_run_with_the_way_out(store, hotspot) -> None:
    hotspot.configure(error_rate=1.0)
    request_id = submit(form({"Lot A": "14283"}))

    failed = await onboard(request_id)

    assert failed.state == "failed"
    assert "HotSpotUnavailable: GET /v1/spots/14283" in (failed.reason or "")
    calls = hotspot.state()["requests"]["GET /v1/spots/{spot_id}"]
    assert sum(calls.values()) == 8 * 4  # the client's 8 attempts, in each of 4 task tries
    assert f"hotspot-onboard retry {request_id}" in (failed.reason or "")

    hotspot.configure(error_rate=0)
    assert (await onboard(request_id)).state == "live"


async def test_run_publishes_its_table_progress_and_summary(store, hotspot) -> None:
    request_id = submit(form({"Lot A": "14283", "Lot B": "99999"}))
    assert (await onboard(request_id)).state == "rejected"
    request_id = submit(form({"Lot A": "14283"}))
    assert (await onboard(request_id)).state == "live"

    with session_scope() as session:
        prefix = f"request-{request_id}-{crud.store_id(session)[:12]}-"
    async with get_client() as client:
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_=prefix))
        )
    by_key: dict[str, list] = {}
    for artifact in artifacts:
        by_key.setdefault(artifact.key, []).append(artifact)
    # One current table for the run, updated in place after every step.
    [table] = by_key[f"{prefix}spotids"]
    assert "live" in str(table.data) and "14283" in str(table.data)
    assert by_key[f"{prefix}polling"][0].type == "progress"
    [summary] = by_key[f"{prefix}summary"]
    assert "## Live" in summary.data and "Lot A: SpotID 14283" in summary.data


async def test_artifact_keys_never_collide_across_stores(store, tmp_path, monkeypatch) -> None:
    with session_scope() as session:
        first = crud.store_id(session)
    monkeypatch.setattr(settings, "database_url", f"sqlite:///{tmp_path / 'other.db'}")
    migrate()
    with session_scope() as session:
        assert crud.store_id(session) != first
