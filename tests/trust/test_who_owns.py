"""Who owns a SpotID: HotSpot's operator decides, ops confirm the rest, the database decides
races between requests."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from subprocess import Popen

import pytest

from store import crud
from store.db import session_scope
from store.models import SpotVerdict
from store.schemas import CompanyIn
from tests.flows.test_onboard_request import form, onboard, permits_by_spot, statuses, submit
from tests.utils.cli import start_cli

HARBOR = {"sender": "ops@harbor.example", "company": "Harbor Lots"}


def add_operator(company: str, operator: str) -> None:
    with session_scope() as session:
        found = crud.get_company_by_name(session, name=company)
        crud.add_hotspot_operator(session, company=found, operator=operator)


async def test_another_operators_spot_waits_on_ops_and_stays_free(store, hotspot) -> None:
    # 16001 is Northgate Parking's (Acme's operator); Harbor Lots operates Riverside Lots.
    squat = await onboard(submit(form({"Riverside P2": "16001"}, **HARBOR)))

    assert squat.state == "waiting_on_ops"
    [line] = squat.spots
    assert line.status == "operator_unconfirmed"
    assert "belongs to operator 'Northgate Parking'" in (line.reason or "")
    assert "Harbor Lots's HotSpot operators (Riverside Lots)" in (line.reason or "")
    assert "Northgate" not in (line.customer_reason or "")  # the customer learns no one's name
    assert hotspot.state()["permits"] == []
    with session_scope() as session:
        assert crud.mappings_by_spot(session, spot_ids=["16001"]) == {}

    own = await onboard(submit(form({"Garage C": "16001"})))  # Acme's own request
    assert own.state == "live", own.reason


async def test_ops_confirm_the_operator_then_it_goes_live(store, hotspot) -> None:
    request_id = submit(form({"Riverside P2": "16001"}, **HARBOR))
    assert (await onboard(request_id)).state == "waiting_on_ops"

    add_operator("Harbor Lots", "northgate parking")  # as ops type it: case does not matter

    live = await onboard(request_id)
    assert live.state == "live", live.reason
    assert statuses(live) == {"16001": "live"}


async def test_a_company_with_no_operator_on_file_has_its_first_confirmed(store, hotspot) -> None:
    with session_scope() as session:
        crud.upsert_company(
            session,
            company_in=CompanyIn(name="Newco", contacts=["a@newco.example"], locations=["North"]),
        )
    request_id = submit(form({"North": "17777"}, sender="a@newco.example", company="Newco"))

    waiting = await onboard(request_id)
    assert waiting.state == "waiting_on_ops"
    assert "none on file yet" in (waiting.reason or "")

    add_operator("Newco", "Northgate Parking")
    assert (await onboard(request_id)).state == "live"


async def test_a_spot_mapped_to_another_company_is_refused_naming_both(store, hotspot) -> None:
    add_operator("Harbor Lots", "Northgate Parking")
    assert (await onboard(submit(form({"Riverside P1": "14283"}, **HARBOR)))).state == "live"

    refused = await onboard(submit(form({"Lot A": "14283"})))

    assert refused.state == "rejected"
    [line] = refused.spots
    assert "mapped to Harbor Lots already; Acme Parking asked for it" in (line.reason or "")
    assert "contact Offstreet support" in (line.customer_reason or "")
    assert "Harbor" not in (line.customer_reason or "")


# --- races: two `hotspot-onboard onboard` processes at once, on SQLite and PostgreSQL --------


def onboard_process(request: dict, tmp_path: Path, name: str, hotspot_url: str) -> Popen:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(request))
    log = tmp_path / f"{name}.log"
    return start_cli(
        "onboard", str(path), "--verify-timeout", "20", hotspot_url=hotspot_url, log=log
    )


def form_request(location: str, spot_id: str, *, sender: str, company: str) -> dict:
    return {
        "company": company,
        "contact_email": sender,
        "spots": [{"location": location, "spot_id": spot_id}],
    }


RACES = {
    "two companies": (
        form_request("Lot A", "14283", sender="jane@acme.example", company="Acme Parking"),
        form_request("Riverside P1", "14283", **HARBOR),
    ),
    "one company twice": (
        form_request("Lot A", "14283", sender="jane@acme.example", company="Acme Parking"),
        form_request("Lot A", "14283", sender="bob@acme.example", company="Acme Parking"),
    ),
}


@pytest.mark.parametrize("race", list(RACES))
def test_two_requests_for_one_spot_at_once(any_store, hotspot, tmp_path: Path, race: str) -> None:
    add_operator("Harbor Lots", "Northgate Parking")  # so that both pass validation
    hotspot.configure(spot_read_barrier=2, delay=1)  # both read the spot, then both map

    first, second = RACES[race]
    runs = [
        onboard_process(first, tmp_path, "first", hotspot.url),
        onboard_process(second, tmp_path, "second", hotspot.url),
    ]
    codes = sorted(run.wait(timeout=240) for run in runs)
    logs = "\n".join((tmp_path / f"{n}.log").read_text() for n in ("first", "second"))

    assert codes == [0, 1], logs  # one live, one refused
    assert hotspot.state()["requests"]["GET /v1/spots/{spot_id}"] == {"200": 2}, "both validated"
    assert permits_by_spot(hotspot) == Counter({"14283": 1})
    with session_scope() as session:
        mapping = crud.mappings_by_spot(session, spot_ids=["14283"])["14283"]
        requests = {r.id: r for r in crud.list_requests(session)}
        winner, loser = sorted(requests.values(), key=lambda r: r.id != mapping.request_id)
        assert winner.state.value == "live" and loser.state.value == "rejected"
        assert winner.company_id == mapping.company_id
        [lost_line] = crud.request_spots(session, request_id=loser.id)
        assert lost_line.verdict == SpotVerdict.rejected
        expected = "mapped to" if race == "two companies" else f"request {winner.id} mapped"
        assert expected in (lost_line.reason or ""), lost_line.reason
