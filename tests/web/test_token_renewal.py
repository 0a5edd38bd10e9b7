"""A live integration whose token HotSpot refuses: the contact's token link renews it, and the
next health check makes it live again (in process, real sandbox, SMTP capture)."""

from __future__ import annotations

import re

import pytest

from flows.check_health import check_integration_health
from settings import settings
from stack.sandbox import SandboxProcess
from store import crud
from store.db import session_scope
from store.models import HealthProblem, MappingState
from testing.demo import ACME_TOKEN
from tests.flows.test_onboard_request import form, onboard, submit
from tests.servers.smtp import SmtpCapture
from tests.web.conftest import Web, csrf_of, link

LINK = re.compile(r"https?://\S+(/f/t[0-9]+\.[0-9]+\.[A-Za-z0-9_-]{43}/hotspot-token)")


@pytest.fixture(autouse=True)
def quick_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    """A canary or TEST123 that does not show is judged after 2 s."""
    monkeypatch.setattr(settings, "verify_timeout_seconds", 2.0)


def states() -> set[tuple[MappingState, HealthProblem | None]]:
    with session_scope() as session:
        found = crud.mappings_by_spot(session, spot_ids=["14283", "15320"]).values()
        return {(m.state, m.problem) for m in found}


async def test_the_contact_renews_a_refused_token_on_the_link(
    web: Web, mail: SmtpCapture, hotspot: SandboxProcess, give_token
) -> None:
    give_token("Acme Parking", ACME_TOKEN)
    assert (await onboard(submit(form({"Lot A": "14283", "Lot B": "15320"})))).state == "live"
    hotspot.revoke_token(ACME_TOKEN)
    await check_integration_health()
    assert states() == {(MappingState.degraded, HealthProblem.token_refused)}
    # The customer's status page and a status answer say so, in their words.
    status = await web.client.get(f"{link('Acme Parking')}/requests/1")
    assert status.status_code == 200 and "Interrupted" in status.text
    with session_scope() as session:
        acme = crud.get_company_by_name(session, name="Acme Parking")
        assert acme is not None
        standing = crud.company_standing(session, company=acme)
    assert {s.standing for s in standing.locations if s.spot_id} == {"waiting_on_you"}
    [letter] = [m for m in mail.messages if "hotspot-token" in m.message.get_content()]
    assert letter.rcpt_tos == ("jane@acme.example",)
    match = LINK.search(letter.message.get_content())
    assert match, letter.message.get_content()

    page = await web.client.get(match.group(1))
    assert page.status_code == 200 and 'type="password"' in page.text
    assert "Lot B: SpotID 15320" in page.text

    # HotSpot refuses the old token still: said at once, nothing stored.
    refused = await web.client.post(
        match.group(1), data={"csrf_token": csrf_of(page.text), "hotspot_token": ACME_TOKEN}
    )
    assert refused.status_code == 422 and "HotSpot did not accept this token" in refused.text

    hotspot.reset()  # HotSpot accepts Acme's token again (as it would a renewed one)
    accepted = await web.client.post(
        match.group(1), data={"csrf_token": csrf_of(refused.text), "hotspot_token": ACME_TOKEN}
    )
    assert accepted.status_code == 200 and "renewed token" in accepted.text
    assert "Token already received" in (await web.client.get(match.group(1))).text

    await check_integration_health()
    assert states() == {(MappingState.live, None)}
