"""The health check against the sandbox, on SQLite and PostgreSQL: each break found once, told
once, kept in the history, and a fix makes the mapping live again."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from pydantic import SecretStr

from flows.check_health import check_integration_health
from settings import settings
from stack.sandbox import SandboxProcess
from store import crud
from store.db import session_scope
from store.models import HealthProblem, MappingState, PermitState, utcnow
from tasks.health_notices import tell_ops_of_new_problems
from tasks.reports import artifact_key
from testing.cli import run_cli
from testing.demo import ACME_TOKEN, OPS
from tests.flows.test_onboard_request import form, onboard, submit
from tests.servers.smtp import SmtpCapture
from tests.web.test_token_link import LINK


@pytest.fixture(autouse=True)
def quick_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    """A canary or TEST123 that does not show is judged after 2 s."""
    monkeypatch.setattr(settings, "verify_timeout_seconds", 2.0)


async def acme_live(give_token: Callable[[str, str], None]) -> int:
    """Acme's Lot A (no token needed) and Lot B (Acme's token needed) live, with its token;
    the request's id."""
    give_token("Acme Parking", ACME_TOKEN)
    outcome = await onboard(submit(form({"Lot A": "14283", "Lot B": "15320"})))
    assert outcome.state == "live", outcome.reason
    return outcome.request_id


def mapping_states() -> dict[str, tuple[MappingState, HealthProblem | None]]:
    with session_scope() as session:
        return {
            m.spot_id: (m.state, m.problem)
            for m in crud.mappings_by_spot(session, spot_ids=["14283", "15320"]).values()
        }


def hotspot_calls(sandbox: SandboxProcess) -> int:
    return sum(sum(by_status.values()) for by_status in sandbox.state()["requests"].values())


async def test_a_healthy_integration_stays_live_and_tells_nobody(
    any_store: str,
    hotspot: SandboxProcess,
    mail: SmtpCapture,
    give_token,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await acme_live(give_token)
    mail.clear()
    monkeypatch.setattr(settings, "health_plate", "CANARY1")  # pushed and looked up alike
    before = hotspot_calls(hotspot)

    findings = await check_integration_health()

    assert [(f.spot_id, f.problem) for f in findings] == [("14283", None), ("15320", None)]
    assert hotspot_calls(hotspot) - before <= 4 * len(findings)  # spot, push, lookup, revoke
    assert mapping_states() == {
        "14283": (MappingState.live, None),
        "15320": (MappingState.live, None),
    }
    canaries = [p for p in hotspot.state()["permits"] if "health" in p["external_id"]]
    assert len(canaries) == 2 and {p["status"] for p in canaries} == {"revoked"}
    with session_scope() as session:
        permits = crud.permits_for_spot(session, spot_id="15320")
        assert [p.state for p in permits] == [PermitState.revoked, PermitState.revoked]
        assert permits[-1].plate == settings.health_plate and permits[-1].with_company_token
    assert mail.messages == []


BREAKS: dict[str, tuple[Callable[[SandboxProcess], object], HealthProblem, list[str]]] = {
    "spot deactivated": (
        lambda sandbox: sandbox.change_spot("14283", active=False),
        HealthProblem.spot_inactive,
        ["14283"],
    ),
    "spot moved to another operator": (
        lambda sandbox: sandbox.change_spot("14283", operator="Riverside Lots"),
        HealthProblem.operator_changed,
        ["14283"],
    ),
    "token revoked": (
        lambda sandbox: sandbox.revoke_token(ACME_TOKEN),
        HealthProblem.token_refused,
        ["14283", "15320"],
    ),
    "permits no longer shown": (
        lambda sandbox: sandbox.change_spot("15320", shows_permits=False),
        HealthProblem.canary_not_visible,
        ["15320"],
    ),
}


@pytest.mark.parametrize("name", list(BREAKS))
async def test_a_break_is_degraded_told_once_and_recovers(
    name: str, any_store: str, hotspot: SandboxProcess, mail: SmtpCapture, give_token
) -> None:
    breaking, problem, broken = BREAKS[name]
    await acme_live(give_token)
    mail.clear()
    breaking(hotspot)

    found = await check_integration_health()

    assert {f.spot_id for f in found if f.problem == problem} == set(broken)
    states = mapping_states()
    for spot_id, (state, found_problem) in states.items():
        expected = (
            (MappingState.degraded, problem) if spot_id in broken else (MappingState.live, None)
        )
        assert (state, found_problem) == expected, spot_id
    to_ops = [m for m in mail.messages if m.rcpt_tos == (OPS,)]
    assert len(to_ops) == 1, [m.message["Subject"] for m in mail.messages]
    assert "Acme Parking" in to_ops[0].message["Subject"]
    to_acme = [m for m in mail.messages if m.rcpt_tos != (OPS,)]
    if problem == HealthProblem.token_refused:
        [letter] = to_acme
        assert letter.rcpt_tos == ("jane@acme.example",)
        text = letter.message.get_content()
        assert LINK.search(text) and "Lot B: SpotID 15320" in text
        assert ACME_TOKEN not in text
    else:
        assert to_acme == []
    status = run_cli("status", "--json", hotspot_url=hotspot.url)
    [integration] = json.loads(status.stdout)["integrations"]
    shown = {m["spot_id"]: (m["status"], m["problem"]) for m in integration["mappings"]}
    assert shown[broken[0]] == ("degraded", problem.value)

    # Nothing changed: the same findings, nobody told again.
    sent = len(mail.messages)
    again = await check_integration_health()
    assert {f.spot_id for f in again if f.problem == problem} == set(broken)
    assert len(mail.messages) == sent

    # Fixed at HotSpot: live again, the history kept.
    hotspot.reset()
    healed = await check_integration_health()
    assert all(f.problem is None for f in healed), healed
    assert set(mapping_states().values()) == {(MappingState.live, None)}
    assert len(mail.messages) == sent
    with session_scope() as session:
        mapping = crud.mappings_by_spot(session, spot_ids=[broken[0]])[broken[0]]
        history = crud.health_history(session, mapping_id=mapping.id or 0)
    assert [(c.problem, c.new_problem) for c in history] == [
        (problem, True),
        (problem, False),
        (None, False),
    ]


async def test_the_report_lists_every_integration_with_its_last_check(
    store: str, hotspot: SandboxProcess, mail: SmtpCapture, give_token
) -> None:
    await acme_live(give_token)
    hotspot.change_spot("14283", active=False)

    await check_integration_health()

    async with get_client() as client:
        [artifact] = await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[artifact_key(None, "integration-health")])
            ),
            limit=1,
        )
    rows = json.loads(str(artifact.data))
    assert [(r["SpotID"], r["State"], r["Problem"]) for r in rows] == [
        ("14283", "degraded (health check)", "spot_inactive"),
        ("15320", "live", ""),
    ]
    assert all(r["Last check"].endswith("UTC") for r in rows)


def test_check_runs_as_a_command(store: str, hotspot: SandboxProcess, give_token) -> None:
    import asyncio

    asyncio.run(acme_live(give_token))
    healthy = run_cli("check", "Acme Parking", hotspot_url=hotspot.url)
    assert healthy.returncode == 0, healthy.stderr
    assert "2 SpotIDs checked, 0 degraded." in healthy.stdout

    hotspot.change_spot("15320", active=False)
    degraded = run_cli("check", hotspot_url=hotspot.url)
    assert degraded.returncode == 4, degraded.stderr
    assert "SpotID 15320 spot_inactive" in degraded.stdout
    shown = run_cli("status", hotspot_url=hotspot.url, COLUMNS="200")
    assert "degraded (spot_inactive)" in shown.stdout and "UTC" in shown.stdout
    assert run_cli("check", "Nobody", hotspot_url=hotspot.url).returncode == 1


async def test_a_canary_left_out_is_withdrawn_unless_another_check_may_wait_for_it(
    store: str, hotspot: SandboxProcess, mail: SmtpCapture, give_token
) -> None:
    await acme_live(give_token)
    with session_scope() as session:
        mapping = crud.mappings_by_spot(session, spot_ids=["14283"])["14283"]
        start = utcnow()
        left = crud.add_permit(
            session,
            mapping=mapping,
            external_id="offstreet-health-other-run",
            with_company_token=True,
            start_time=start,
            end_time=start + timedelta(minutes=10),
            plate=settings.health_plate,
        )
        left_id = left.id or 0

    # Just pushed by another check that may still be looking for it: left alone.
    busy = await check_integration_health()
    assert [(f.spot_id, f.checked) for f in busy] == [("14283", False), ("15320", True)]
    with session_scope() as session:
        left = crud.get_permit(session, permit_id=left_id)
        assert left.state == PermitState.pending
        # That check was killed long ago: its canary is withdrawn before the new one.
        crud.update_permit(session, permit=left, created_at=utcnow() - timedelta(hours=1))

    findings = await check_integration_health()

    assert [(f.checked, f.problem) for f in findings] == [(True, None), (True, None)]
    with session_scope() as session:
        assert crud.get_permit(session, permit_id=left_id).state == PermitState.revoked
        assert crud.active_permits(session, mapping_ids=[mapping.id or 0]) == {}
    assert mapping_states()["14283"] == (MappingState.live, None)


async def test_hotspot_unavailable_changes_nothing_and_tells_nobody(
    any_store: str, hotspot: SandboxProcess, mail: SmtpCapture, give_token
) -> None:
    await acme_live(give_token)
    mail.clear()
    hotspot.configure(error_rate=1.0)

    findings = await check_integration_health("Acme Parking")

    assert [f.checked for f in findings] == [False, False]
    assert set(mapping_states().values()) == {(MappingState.live, None)}
    assert mail.messages == []
    with session_scope() as session:
        assert crud.last_health_checks(session) == {}


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, str]]]:
    """OPS_WEBHOOK_URL pointing at a local server; what it received."""
    _Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    monkeypatch.setattr(settings, "ops_webhook_url", SecretStr(url))
    yield _Hook.received
    server.shutdown()
    server.server_close()


async def test_a_notice_that_could_not_be_sent_is_sent_by_the_next_check(
    store: str,
    hotspot: SandboxProcess,
    mail: SmtpCapture,
    webhook: list[dict[str, str]],
    give_token,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await acme_live(give_token)
    mail.clear()
    monkeypatch.setattr(tell_ops_of_new_problems, "retries", 0)
    hotspot.change_spot("14283", operator="Riverside Lots")
    mail.fail_next(1, reply="554 5.0.0 Transaction failed")

    failed = await check_integration_health(return_state=True)

    assert failed.is_failed()
    assert mapping_states()["14283"] == (MappingState.degraded, HealthProblem.operator_changed)
    assert webhook == [] and [m for m in mail.messages if m.rcpt_tos == (OPS,)] == []

    await check_integration_health()  # nothing new at HotSpot: the notice owed is sent now
    [notice] = [m for m in mail.messages if m.rcpt_tos == (OPS,)]
    assert "spot moved to another operator" in notice.message["Subject"]
    assert [hook["subject"] for hook in webhook] == [notice.message["Subject"]]
    assert "Riverside Lots" in webhook[0]["body"]

    await check_integration_health()
    assert len(webhook) == 1 and len([m for m in mail.messages if m.rcpt_tos == (OPS,)]) == 1


async def test_onboarding_runs_leave_a_degraded_spot_id_to_the_health_check(
    store: str, hotspot: SandboxProcess, mail: SmtpCapture, give_token
) -> None:
    request_id = await acme_live(give_token)
    hotspot.change_spot("15320", shows_permits=False)
    await check_integration_health()
    degraded = (MappingState.degraded, HealthProblem.canary_not_visible)
    assert mapping_states()["15320"] == degraded

    again = await onboard(request_id)  # its own request run again: still live, nothing moved
    later = await onboard(submit(form({"Lot B": "15320"})))  # asked again: it went live already

    assert again.state == "live", again.reason
    assert later.state == "live" and [s.status for s in later.spots] == ["already_live"]
    assert mapping_states()["15320"] == degraded


async def test_nothing_live_is_a_quiet_check(store: str, hotspot: SandboxProcess) -> None:
    assert await check_integration_health() == []
    assert hotspot_calls(hotspot) == 0
