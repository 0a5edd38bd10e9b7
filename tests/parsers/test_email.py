"""parse_email's contract: headers read, robots refused, outcomes as the docstring says."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

import pytest

from parsers import NotASpotIDRequest, UnreadableInput, parse_email


def _mail(body: str, **headers: str) -> bytes:
    lines = {
        "From": "Jane Smith <jane@acme.example>",
        "To": "hotspot@offstreet.example",
        "Subject": "HotSpot Integration - SpotID Configuration Request",
        **{name.replace("_", "-"): value for name, value in headers.items()},
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in lines.items())
    return (head + "\r\n" + body).encode()


def test_fills_sender_subject_and_message_id() -> None:
    raw = _mail(
        "Lot A: 14283\n",
        From='"Smith, Jane" <Jane.Smith@ACME.Example>',
        Subject="=?utf-8?q?HotSpot_Integration_=E2=80=93?= SpotID",
        Message_ID="<abc.123@acme.example>",
    )
    request = parse_email(raw)
    assert request.sender == "jane.smith@acme.example"
    assert request.sender_name == "Smith, Jane"
    assert request.subject == "HotSpot Integration \u2013 SpotID"
    assert request.message_id == "<abc.123@acme.example>"
    assert request.source == "email"


def test_built_with_the_stdlib_in_base64() -> None:
    message = EmailMessage()
    message["From"] = "Ren\u00e9e <renee@example.com>"
    message["Subject"] = "SpotIDs"
    message.set_content("Caf\u00e9 Lot \u2013 14283\n", charset="utf-8", cte="base64")
    request = parse_email(message.as_bytes(policy=SMTP))
    assert [(s.location, s.spot_id) for s in request.spots] == [("Caf\u00e9 Lot", "14283")]
    assert request.sender_name == "Ren\u00e9e"


def test_missing_headers_are_none() -> None:
    request = parse_email(b"Subject: x\n\nLot A: 14283\n")
    assert request.sender is None and request.sender_name is None and request.message_id is None


def test_malformed_from_does_not_crash() -> None:
    request = parse_email(_mail("Lot A: 14283\n", From='"unterminated <jane@acme.example'))
    assert request.spots[0].spot_id == "14283"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-generated"),
        ("Auto-Submitted", "auto-notified; owner-email=x@y"),
        ("X-Autoreply", "yes"),
        ("X-Autorespond", "Out of office"),
        ("Precedence", "auto_reply"),
        ("Subject", "Automatic reply: HotSpot Integration"),
        ("Subject", "Out of Office: SpotIDs"),
        ("Subject", "Autosvar: SpotIDs"),
        ("Subject", "Abwesenheitsnotiz: SpotIDs"),
        ("Subject", "R\u00e9ponse automatique : SpotIDs"),
        ("Subject", "[Auto-Reply] SpotIDs"),
        ("Subject", "Undeliverable: SpotIDs"),
        ("From", "MAILER-DAEMON@acme.example"),
    ],
)
def test_robots_are_refused(header: str, value: str) -> None:
    raw = _mail("Lot A: 14283\n", **{header.replace("-", "_"): value})
    with pytest.raises(NotASpotIDRequest, match="not a SpotID request"):
        parse_email(raw)


def test_auto_submitted_no_is_a_person() -> None:
    assert parse_email(_mail("Lot A: 14283\n", Auto_Submitted="no")).spots


def test_refusal_reason_names_the_header() -> None:
    raw = _mail("Lot A: 14283\n", Auto_Submitted="auto-replied")
    with pytest.raises(NotASpotIDRequest) as caught:
        parse_email(raw)
    assert str(caught.value) == "auto-reply (Auto-Submitted: auto-replied); not a SpotID request"


def test_no_spotids_is_refused_with_a_reason() -> None:
    with pytest.raises(NotASpotIDRequest, match="^no SpotIDs found in the message$"):
        parse_email(_mail("Hi Dana, can we talk tomorrow?\n"))


def test_only_warnings_gives_a_request_for_review() -> None:
    request = parse_email(_mail("Lot C: 14283 or 14284\n"))
    assert request.spots == []
    assert request.warnings == [
        'cannot tell which SpotID belongs to which location: "Lot C: 14283 or 14284"'
    ]


def test_certain_pairs_and_warnings_together() -> None:
    request = parse_email(_mail("Lot A: 14283\nSpotID 15320\n"))
    assert [s.location for s in request.spots] == ["Lot A"]
    assert request.warnings == ['SpotID without a location: "SpotID 15320"']


def test_signature_numbers_are_read_when_nothing_precedes_the_sign_off() -> None:
    request = parse_email(_mail("Thanks!\nLot A: 14283\n"))
    assert [s.location for s in request.spots] == ["Lot A"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n",
        b"garbage without headers",
        b"\x00\x01\x02\xff\xfe",
        b"\r\n\r\nLot A: 14283",
        "Lot A: 14283",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj",
    ],
)
def test_not_an_email_is_unreadable(raw: bytes | str) -> None:
    with pytest.raises(UnreadableInput):
        parse_email(raw)


def test_mbox_from_line_and_leading_blank_lines_are_tolerated() -> None:
    raw = b"\r\nFrom jane@acme.example Mon Jun  2 09:00:00 2025\n" + _mail("Lot A: 14283\n")
    assert parse_email(raw).sender == "jane@acme.example"


def test_str_input_is_accepted() -> None:
    assert parse_email(_mail("Lot A: 14283\n").decode()).spots[0].spot_id == "14283"
