"""Replies are composed as pure functions: threaded, marked automatic, never to a robot."""

from __future__ import annotations

import pytest

from inbox.replies import ReplyKind, compose_reply, may_reply_to
from store.schemas import RequestOutcome, SpotStatus

OUTCOME = RequestOutcome(
    request_id=7,
    company="Acme Parking",
    state="rejected",
    reason="1 of 2 SpotIDs refused",
    spots=[
        SpotStatus(location="Lot A", spot_id="14283", status="accepted"),
        SpotStatus(location="Lot B", spot_id="99999", status="rejected", reason="unknown"),
    ],
)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("jane@acme.example", True),
        ("hotspot@offstreet.example", False),  # ourselves: no loop
        ("HOTSPOT@offstreet.example", False),
        ("mailer-daemon@acme.example", False),
        ("no-reply@acme.example", False),
        ("noreply.alerts@acme.example", False),
        ("postmaster@acme.example", False),
        (None, False),
        ("not-an-address", False),
    ],
)
def test_who_gets_a_reply(address: str | None, allowed: bool) -> None:
    own = ("hotspot@offstreet.example", "ops@offstreet.example")
    assert may_reply_to(address, own_addresses=own) is allowed


def test_reply_is_threaded_and_marked_automatic() -> None:
    reply = compose_reply(
        ReplyKind.refusal,
        OUTCOME,
        sender="hotspot@offstreet.example",
        to="jane@acme.example",
        subject="HotSpot Integration – SpotID Configuration Request",
        in_reply_to="<abc@acme.example>",
    )
    assert reply["Subject"] == "Re: HotSpot Integration – SpotID Configuration Request"
    assert reply["In-Reply-To"] == reply["References"] == "<abc@acme.example>"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["Message-ID"].endswith("@offstreet.example>")
    body = reply.get_content()
    assert "Lot B: SpotID 99999 — unknown" in body and "Lot A" not in body


def test_subject_is_not_prefixed_twice() -> None:
    reply = compose_reply(
        ReplyKind.live,
        OUTCOME,
        sender="h@o.example",
        to="j@a.example",
        subject="RE: x",
        in_reply_to=None,
    )
    assert reply["Subject"] == "RE: x" and reply["In-Reply-To"] is None
