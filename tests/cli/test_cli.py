"""The `hotspot-onboard` commands, their output and their exit codes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from typer.testing import CliRunner

from cli.main import app
from parsers import parse_any
from settings import PROJECT_DIR
from store import crud
from store.db import session_scope
from tasks.intake import record_request
from testing.demo import ACME_TOKEN

runner = CliRunner()
SAMPLE = PROJECT_DIR / "demo/request.eml"
SEED = PROJECT_DIR / "demo/companies.json"
# A live mapping the health check has not looked at yet.
NEVER_CHECKED = {"reason": None, "problem": None, "checked_at": None}


def test_parse_prints_the_request_as_json() -> None:
    result = runner.invoke(app, ["parse", str(SAMPLE)])

    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert parsed["spots"] == [
        {"location": "Lot A", "spot_id": "14283"},
        {"location": "Lot B", "spot_id": "15320"},
    ]
    assert parsed["sender"] == "jane@acme.example"
    assert parsed["message_id"].startswith("<179599712379")


def test_parse_a_form_json(tmp_path: Path) -> None:
    form = tmp_path / "form.json"
    form.write_text(
        json.dumps(
            {
                "company": "Acme Parking",
                "contact_email": "Jane@Acme.example",
                "spots": [{"location": "Lot A", "spot_id": 14283}],
            }
        )
    )
    result = runner.invoke(app, ["parse", str(form)])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["spots"] == [{"location": "Lot A", "spot_id": "14283"}]


def test_parse_refuses_a_message_without_spot_ids(tmp_path: Path) -> None:
    mail = tmp_path / "hello.eml"
    mail.write_bytes(b"From: a@b.example\r\nSubject: lunch?\r\n\r\nShall we meet at noon?\r\n")

    result = runner.invoke(app, ["parse", str(mail)])

    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "not a SpotID request" in result.stderr


def test_parse_unreadable_file_exits_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["parse", str(tmp_path / "missing.eml")]).exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"company": ')
    assert runner.invoke(app, ["parse", str(bad)]).exit_code == 2


async def read_run_of(request_id: int) -> FlowRun:
    with session_scope() as session:
        run_id = crud.get_request(session, request_id=request_id).flow_run_id
    async with get_client() as client:
        return await client.read_flow_run(UUID(run_id))


def test_onboard_waits_for_token_then_the_token_continues_it(store, hotspot) -> None:
    assert runner.invoke(app, ["seed", str(SEED)]).exit_code == 0

    waiting = runner.invoke(app, ["onboard", str(SAMPLE), "--verify-timeout", "2"])

    assert waiting.exit_code == 4, waiting.output
    assert 'hotspot-onboard token "Acme Parking"' in waiting.stdout
    paused = asyncio.run(read_run_of(1))
    assert paused.state.is_paused(), paused.state  # waiting on a person: not Completed

    stored = runner.invoke(app, ["token", "Acme Parking"], input=ACME_TOKEN + "\n")
    assert stored.exit_code == 0, stored.output
    assert ACME_TOKEN not in stored.output

    live = runner.invoke(app, ["retry", "1"])
    assert live.exit_code == 0, live.output
    run = asyncio.run(read_run_of(1))
    assert run.id == paused.id and run.state.is_completed()  # one request, one run
    assert run.run_count == 3  # onboard, token, retry

    again = runner.invoke(app, ["onboard", str(SAMPLE)])
    assert again.exit_code == 0

    status = runner.invoke(app, ["status", "--json"])
    report = json.loads(status.stdout)
    assert report["integrations"] == [
        {
            "company": "Acme Parking",
            "status": "live",
            "hotspot_operators": ["Northgate Parking"],
            "mappings": [
                {"location": "Lot A", "spot_id": "14283", "status": "live", **NEVER_CHECKED},
                {"location": "Lot B", "spot_id": "15320", "status": "live", **NEVER_CHECKED},
            ],
        }
    ]
    assert [r["state"] for r in report["requests"]] == ["live"]
    for output in (waiting.output, live.output, status.output):
        assert ACME_TOKEN not in output


def test_onboard_refused_exits_1_with_the_reason(store, hotspot, tmp_path: Path) -> None:
    form = tmp_path / "form.json"
    form.write_text(
        json.dumps(
            {
                "company": "Acme Parking",
                "contact_email": "jane@acme.example",
                "spots": [{"location": "Lot A", "spot_id": "99999"}],
            }
        )
    )
    result = runner.invoke(app, ["onboard", str(form)])

    assert result.exit_code == 1
    assert "unknown to HotSpot" in result.stdout


def test_token_is_never_taken_from_the_command_line(store) -> None:
    result = runner.invoke(app, ["token", "Acme Parking", "secret-on-argv"])
    assert result.exit_code == 2
    assert runner.invoke(app, ["token", "Acme Parking"], input="\n").exit_code == 1


def test_held_request_runs_once_approved(store, hotspot, tmp_path: Path) -> None:
    form = tmp_path / "form.json"
    form.write_text(
        json.dumps(
            {
                "company": "Acme Parking",
                "contact_email": "newcomer@gmail.example",
                "spots": [{"location": "Lot A", "spot_id": "14283"}],
            }
        )
    )
    held = runner.invoke(app, ["onboard", str(form)])
    assert held.exit_code == 4, held.output
    assert "newcomer@gmail.example is not a contact of Acme Parking" in held.stdout
    assert hotspot.state()["permits"] == []

    approved = runner.invoke(app, ["approve", "1"])  # the form's company: Acme
    assert approved.exit_code == 0, approved.output
    assert runner.invoke(app, ["reject", "1", "--reason", "late"]).exit_code == 1  # it is live


def test_held_email_of_an_unknown_sender_needs_the_company_named(store, hotspot) -> None:
    raw = b"From: x@unknown.example\r\nSubject: SpotIDs\r\n\r\nLot A: 14283\r\n"
    request_id = record_request(raw, parse_any(raw))
    assert runner.invoke(app, ["approve", str(request_id)]).exit_code == 1  # whose is it?
    approved = runner.invoke(app, ["approve", str(request_id), "--company", "Acme Parking"])
    assert approved.exit_code == 0, approved.output


def test_operator_add(store) -> None:
    added = runner.invoke(app, ["operator", "add", "Harbor Lots", "Northgate Parking"])
    assert added.exit_code == 0, added.output
    again = runner.invoke(app, ["operator", "add", "Harbor Lots", "northgate parking"])
    assert again.exit_code == 0 and "Already on file" in again.stdout
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["integrations"] == []  # operators show per integration, once there is one
    assert runner.invoke(app, ["operator", "add", "Nobody", "X"]).exit_code == 1


def test_reject_a_held_request(store) -> None:
    raw = b"From: x@unknown.example\r\nSubject: SpotIDs\r\n\r\nLot A: 14283\r\n"
    request_id = record_request(raw, parse_any(raw))
    assert runner.invoke(app, ["reject", str(request_id), "--reason", "spam"]).exit_code == 0
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["requests"][0]["state"] == "rejected"
    assert status["requests"][0]["reason"] == "rejected by ops: spam"


def test_seed_never_prints_a_token_of_a_refused_file(store, tmp_path: Path) -> None:
    seed_file = tmp_path / "companies.json"
    for company in (
        {"contacts": ["a@b.example"], "hotspot_token": "tok-in-clear-0123"},  # no name
        {"name": "Acme Parking", "hotspot_token": ["tok-in-clear-0123"]},  # not a string
    ):
        seed_file.write_text(json.dumps({"companies": [company]}))
        result = runner.invoke(app, ["seed", str(seed_file)])
        assert result.exit_code == 2
        assert "is not a valid seed file" in result.stderr
        assert "tok-in-clear-0123" not in result.output
