"""Newest text versus history: replies drop it, forwards are read from it."""

from __future__ import annotations

import pytest

from parsers.quoting import cut_signature, is_forward_subject, split


@pytest.mark.parametrize(
    "history",
    [
        "On Mon, 2 Jun 2025 at 10:00, Dana <dana@x.example> wrote:\n> Lot A: 14283",
        "On Mon, 2 Jun 2025 at 10:00, Dana <\ndana@x.example> wrote:\n> Lot A: 14283",
        "Am 02.06.2025 um 10:00 schrieb Dana <dana@x.example>:\n> Lot A: 14283",
        "Le lun. 2 juin 2025 \u00e0 10:00, Dana a \u00e9crit :\n> Lot A: 14283",
        "El lun, 2 jun 2025 a las 10:00, Dana escribi\u00f3:\n> Lot A: 14283",
        "________________________________\nFrom: Dana\nSent: Monday\nTo: Jane\n\nLot A: 14283",
        "From: Dana <dana@x.example>\nSent: Monday, June 2, 2025\nSubject: x\n\nLot A: 14283",
        "Von: Dana\nGesendet: Montag\nAn: Jane\n\nLot A: 14283",
        "-----Original Message-----\nFrom: Dana\nLot A: 14283",
        "----- Urspr\u00fcngliche Nachricht -----\nVon: Dana\nLot A: 14283",
        "From: Dana <d@x.example> Sent: Monday To: Jane Subject: x\nLot A: 14283",
        "Dana Lee wrote:\n> Lot A: 14283",
        "Dana Lee/ACME wrote on 06/02/2025 10:00:00 AM:\n\nLot A: 14283",
        "> Lot A: 14283\n> Lot B: 15320",
        "On Mon, Dana wrote:\nLot A: 14283",  # HTML-rendered history carries no ">"
    ],
)
def test_reply_history_is_dropped(history: str) -> None:
    parts = split(f"Adding Lot C: 16001\n\n{history}")
    assert "14283" not in parts.new and "16001" in parts.new
    assert parts.forwarded is None


@pytest.mark.parametrize(
    "marker",
    [
        "---------- Forwarded message ---------",
        "-------- Forwarded Message --------",
        "Begin forwarded message:",
        "---------- Weitergeleitete Nachricht ----------",
        "> Begin forwarded message:",
    ],
)
def test_marked_forward_is_kept_without_its_headers(marker: str) -> None:
    text = f"FYI\n\n{marker}\nFrom: Jane <jane@x.example>\nSubject: S\n\nLot A: 14283\n"
    parts = split(text)
    assert parts.new.strip() == "FYI"
    assert parts.forwarded is not None and parts.forwarded.strip() == "Lot A: 14283"


def test_unmarked_history_is_a_forward_only_when_the_subject_says_so() -> None:
    text = "See below\n\n________________________________\nFrom: Jane\nSent: Mon\n\nLot A: 14283"
    assert split(text, forward=False).forwarded is None
    assert split(text, forward=True).forwarded == "Lot A: 14283"


def test_forward_quoted_inside_a_reply_stays_history() -> None:
    text = (
        "Thanks!\n\nOn Mon, Dana wrote:\n> ---------- Forwarded message ---------\n> Lot A: 14283"
    )
    assert split(text).forwarded is None


def test_apple_mail_quoted_forward_is_unquoted() -> None:
    text = "FYI\n\nBegin forwarded message:\n\n> From: Jane\n> Subject: S\n>\n> Lot A: 14283\n"
    assert split(text).forwarded == "Lot A: 14283\n"


@pytest.mark.parametrize(
    "subject", ["Fwd: SpotIDs", "FW: SpotIDs", "Fw: x", "WG: x", "TR: x", "RV: x", "[Fwd: x]"]
)
def test_forward_subjects(subject: str) -> None:
    assert is_forward_subject(subject)


@pytest.mark.parametrize("subject", [None, "Re: SpotIDs", "Forward planning", "SpotIDs"])
def test_not_forward_subjects(subject: str | None) -> None:
    assert not is_forward_subject(subject)


@pytest.mark.parametrize(
    "sign_off",
    [
        "-- ",
        "--",
        "Thanks,",
        "Thanks, Jane",
        "Best regards,",
        "Kind regards",
        "Cheers!",
        "Mit freundlichen Gr\u00fc\u00dfen",
        "Sent from my iPhone",
        "Get Outlook for iOS",
    ],
)
def test_signature_is_cut(sign_off: str) -> None:
    assert cut_signature(f"Lot A: 14283\n{sign_off}\nSuite 10250") == "Lot A: 14283"


def test_sentence_starting_with_thanks_is_not_a_sign_off() -> None:
    text = "Thanks for the call yesterday, here are the SpotIDs we discussed:\nLot A: 14283"
    assert cut_signature(text) == text


def test_forwarded_key_value_body_is_not_taken_for_headers() -> None:
    text = (
        "FYI\n---------- Forwarded message ---------\nFrom: Jane\n\nLocation: Lot A\nSpotID: 14283"
    )
    assert split(text).forwarded == "Location: Lot A\nSpotID: 14283"


@pytest.mark.parametrize("text", ["As I wrote:\nLot A: 14283", "I wrote on the form: Lot A 14283"])
def test_the_word_wrote_alone_is_not_a_reply_header(text: str) -> None:
    assert split(text).new == text


def test_postscript_below_the_signature_is_kept() -> None:
    text = "Lot A: 14283\nBest,\nJane\n+1 312 555 0100\n\nP.S. Lot C: 16001\n\nDisclaimer 1234"
    assert cut_signature(text) == "Lot A: 14283\nP.S. Lot C: 16001"
