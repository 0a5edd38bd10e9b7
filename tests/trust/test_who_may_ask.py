"""Who may ask: crafted emails, as an attacker writes them, against `trust.who_may_ask`.

Every forged or unauthenticated email is held (and never reaches HotSpot); a contact whose
message Offstreet's own border MTA authenticated goes ahead.
"""

from __future__ import annotations

import uuid

import pytest

from parsers import parse_email
from settings import settings
from store import crud
from store.db import session_scope
from store.models import RequestState
from tasks.intake import admit
from tests.flows.test_onboard_request import onboard
from tests.utils.cli import run_cli

OUR_MTA = "mx.offstreet.example"
TRUSTED = "MAIL_TRUSTED_AUTHSERV_IDS"
PASS = f"{OUR_MTA}; spf=pass smtp.mailfrom=acme.example; dkim=pass header.d=acme.example; dmarc=pass header.from=acme.example"  # noqa: E501


def email(*headers: tuple[str, str], body: str = "Lot A: 14283\n") -> bytes:
    names = {name.lower() for name, _ in headers}
    base = [] if "from" in names else [("From", "Jane <jane@acme.example>")]
    lines = [f"{name}: {value}" for name, value in [*base, *headers]]
    lines += ["Subject: SpotIDs", f"Message-ID: <{uuid.uuid4().hex}@acme.example>", ""]
    return ("\r\n".join(lines) + "\r\n" + body).encode()


def ar(value: str) -> tuple[str, str]:
    return ("Authentication-Results", value)


CASES = [
    # (id, headers, admitted?, a fragment of the reason when held)
    ("dmarc pass from our MTA", [ar(PASS)], True, None),
    (
        "dkim aligned, no dmarc",
        [ar(f"{OUR_MTA}; dkim=pass header.d=acme.example")],
        True,
        None,
    ),
    (
        "dkim aligned from a subdomain",
        [ar(f"{OUR_MTA}; dkim=pass header.d=mail.acme.example")],
        True,
        None,
    ),
    ("no Authentication-Results at all", [], False, "no Authentication-Results header"),
    ("dmarc=none", [ar(f"{OUR_MTA}; dmarc=none header.from=acme.example")], False, "dmarc=none"),
    ("dmarc=fail", [ar(f"{OUR_MTA}; dmarc=fail header.from=acme.example")], False, "dmarc=fail"),
    ("dmarc=temperror", [ar(f"{OUR_MTA}; dmarc=temperror")], False, "dmarc=temperror"),
    ("dmarc=permerror", [ar(f"{OUR_MTA}; dmarc=permerror")], False, "dmarc=permerror"),
    (
        "a header written by the sender's own host",
        [ar("mail.evil.test; dmarc=pass header.from=acme.example")],
        False,
        "no Authentication-Results header from Offstreet's mail server",
    ),
    (
        "a header claiming another authserv-id next to ours",
        [ar(f"{OUR_MTA}; dmarc=fail"), ar("evil.test; dmarc=pass")],
        False,
        "dmarc=fail",
    ),
    (
        "dmarc passed for another domain",
        [ar(f"{OUR_MTA}; dmarc=pass header.from=evil.test")],
        False,
        "not for the From domain acme.example",
    ),
    (
        "dkim of another domain, no dmarc",
        [ar(f"{OUR_MTA}; dkim=pass header.d=evil.test; spf=pass")],
        False,
        "no DKIM signature aligned",
    ),
    (
        "a display name that is an address",
        [("From", "jane@acme.example <attacker@evil.test>"), ar(PASS)],
        False,
        "From header is malformed",
    ),
    (
        "route syntax",
        [("From", "<@evil.test:jane@acme.example>"), ar(PASS)],
        False,
        "route syntax",
    ),
    (
        "two From headers",
        [("From", "jane@acme.example"), ("From", "attacker@evil.test"), ar(PASS)],
        False,
        "2 From headers",
    ),
    (
        "two addresses in one From",
        [("From", "jane@acme.example, attacker@evil.test"), ar(PASS)],
        False,
        "names 2 addresses",
    ),
    (
        "an authenticated stranger",
        [("From", "eve@evil.test"), ar(f"{OUR_MTA}; dmarc=pass header.from=evil.test")],
        False,
        "unknown sender eve@evil.test",
    ),
]


@pytest.fixture
def authenticated(store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "mail_trusted_authserv_ids", [OUR_MTA])


def admitted(raw: bytes) -> tuple[int, RequestState, str | None, str | None, list[str]]:
    with session_scope() as session:
        request, _ = admit(session, raw, parse_email(raw))
        return request.id or 0, request.state, request.reason, request.reply_to, request.trust_notes


@pytest.mark.parametrize(
    ("headers", "admitted_alone", "why"),
    [pytest.param(headers, ok, why, id=name) for name, headers, ok, why in CASES],
)
def test_crafted_email(authenticated, headers, admitted_alone: bool, why: str | None) -> None:
    _, state, reason, reply_to, _ = admitted(email(*headers))

    if admitted_alone:
        assert state == RequestState.received, reason
        assert reply_to == "jane@acme.example"
    else:
        assert state == RequestState.held
        assert why in (reason or ""), reason
        assert "hotspot-onboard approve" in (reason or "")


def test_headers_of_other_hosts_are_shown_to_ops_as_ignored(authenticated) -> None:
    _, state, _, _, notes = admitted(email(ar(PASS), ar("evil.test; dmarc=pass")))

    assert state == RequestState.received
    assert notes == [
        "ignored an Authentication-Results header written by 'evil.test' (not Offstreet's mail "
        "server)"
    ]


def test_a_forged_sender_is_never_replied_to(authenticated) -> None:
    _, state, _, reply_to, _ = admitted(email())
    assert state == RequestState.held and reply_to is None


async def test_held_emails_never_reach_hotspot(authenticated, hotspot) -> None:
    for name, headers, ok, _ in CASES:
        if ok:
            continue
        request_id, *_ = admitted(email(*headers))
        outcome = await onboard(request_id)
        assert outcome.state == "held", name
    assert hotspot.state()["requests"] == {}  # not one call, not even a spot read

    request_id, *_ = admitted(email(ar(PASS)))
    assert (await onboard(request_id)).state == "live"


def test_with_authentication_off_a_well_formed_contact_is_trusted(store) -> None:
    assert settings.mail_trusted_authserv_ids == []
    _, state, _, reply_to, _ = admitted(email())
    assert state == RequestState.received and reply_to == "jane@acme.example"
    # Still held: an ambiguous From, and a failure any header reports.
    assert admitted(email(("From", "jane@acme.example, x@evil.test")))[1] == RequestState.held
    assert admitted(email(ar("anyone; dmarc=fail")))[1] == RequestState.held


def test_the_sender_company_is_kept_for_approval(authenticated) -> None:
    request_id, state, *_ = admitted(email())
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        assert state == RequestState.held
        assert crud.get_company(session, company_id=request.company_id).name == "Acme Parking"


def test_onboard_command_holds_a_forged_email(store, hotspot, tmp_path) -> None:
    forged = tmp_path / "forged.eml"
    forged.write_bytes(email(ar("smtp.evil.test; dmarc=pass header.from=acme.example")))

    held = run_cli("onboard", str(forged), hotspot_url=hotspot.url, **{TRUSTED: OUR_MTA})

    assert held.returncode == 4, held.stderr
    assert "held" in held.stdout and "no Authentication-Results header from" in held.stdout
    assert "sender authentication is off" not in held.stderr
    assert hotspot.state()["requests"] == {}


def test_commands_say_when_sender_authentication_is_off(store, hotspot, tmp_path) -> None:
    request = tmp_path / "request.eml"
    request.write_bytes(email())

    live = run_cli("onboard", str(request), hotspot_url=hotspot.url, **{TRUSTED: ""})

    assert live.returncode == 0, live.stdout + live.stderr
    warnings = [line for line in live.stderr.splitlines() if "authentication is off" in line]
    assert len(warnings) == 1 and "MAIL_TRUSTED_AUTHSERV_IDS" in warnings[0]
