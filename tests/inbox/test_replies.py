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
        SpotStatus(
            location="Lot B",
            spot_id="99999",
            status="rejected",
            reason="unknown to HotSpot; check the SpotID with the customer",
            customer_reason="HotSpot does not know this SpotID; please check it",
        ),
        SpotStatus(
            location="Back lot",
            spot_id="17777",
            status="unknown_location",
            reason="the company has no location named 'Back lot' (it has: Lot A); pick one",
            customer_reason="we have no location named 'Back lot' for your account",
        ),
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
        in_reply_to="<abc@acme.example>",
    )
    assert reply["In-Reply-To"] == reply["References"] == "<abc@acme.example>"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["Message-ID"].endswith("@offstreet.example>")


def test_refusal_lists_every_refused_line_in_the_customers_words() -> None:
    body = compose_reply(
        ReplyKind.refusal, OUTCOME, sender="h@o.example", to="j@a.example", in_reply_to=None
    ).get_content()
    assert "Lot B: SpotID 99999 — HotSpot does not know this SpotID; please check it" in body
    assert "Back lot: SpotID 17777 — we have no location named 'Back lot'" in body
    assert "Lot A" not in body
    assert "check the SpotID with the customer" not in body  # ops' words stay with ops
    assert "pick one" not in body


@pytest.mark.parametrize("kind", list(ReplyKind))
def test_subject_is_ours_never_the_senders(kind: ReplyKind) -> None:
    reply = compose_reply(kind, OUTCOME, sender="h@o.example", to="j@a.example", in_reply_to=None)
    assert reply["Subject"] == "Re: your HotSpot SpotID request #7"
    assert reply["In-Reply-To"] is None
