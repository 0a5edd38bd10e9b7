"""Status questions: an email without SpotIDs asking where the integration stands."""

from __future__ import annotations

import pytest

from parsers import NotASpotIDRequest, parse_email
from parsers.status_question import classify_status_question

STATUS = [
    ("Do we already have HotSpot set up?", "en"),
    ("Hi Dana, any update on our request? Thanks", "en"),
    ("Which lots are live?", "en"),
    ("Could you tell us the status of our HotSpot integration?", "en"),
    ("Unsure if integration already exists - is our integration live yet?", "en"),
    ("Before we send anything: to avoid duplicate setup, are we already on HotSpot?", "en"),
    ("Bonjour, avons-nous déjà HotSpot ?", "fr"),
    ("Où en est notre demande ?", "fr"),
    ("Quels stationnements sont actifs?", "fr"),
    ("Des nouvelles de notre demande d\u2019intégration ?", "fr"),
]
UNSURE = [
    "Is HotSpot going to be active for the event next week?",
    "Quick question on the HotSpot integration: is it still on track for Monday?",
]
NOT = [
    "Are you free Tuesday at 2:30pm for a meeting?",
    "Where do I find the SpotID for our locations?",
    "Thanks for the lunch yesterday!",
]


@pytest.mark.parametrize(("text", "language"), STATUS)
def test_status_questions_are_recognised(text: str, language: str) -> None:
    verdict = classify_status_question(None, text)
    assert (verdict.verdict, verdict.language) == ("status", language)


@pytest.mark.parametrize("text", UNSURE)
def test_unsure_ones_go_to_a_person(text: str) -> None:
    assert classify_status_question(None, text).verdict == "unsure"


@pytest.mark.parametrize("text", NOT)
def test_other_emails_are_not_status_questions(text: str) -> None:
    assert classify_status_question(None, text).verdict == "no"


def mail(body: str, subject: str = "HotSpot") -> bytes:
    return (
        "From: Jane <jane@acme.example>\r\nTo: hotspot@offstreet.example\r\n"
        f"Subject: {subject}\r\nMessage-ID: <q@acme.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def test_parse_email_gives_a_status_question_kind() -> None:
    request = parse_email(mail("Hi,\r\nOù en est notre demande ?\r\nJane"))
    assert (request.kind, request.language, request.spots, request.warnings) == (
        "status_question",
        "fr",
        [],
        [],
    )
    assert request.sender == "jane@acme.example" and request.sender_evidence is not None


def test_the_quoted_history_is_not_read_as_the_question() -> None:
    body = "Thanks!\r\n\r\nOn Mon, Jane wrote:\r\n> Any update on our request?\r\n"
    with pytest.raises(NotASpotIDRequest):
        parse_email(mail(body, subject="Lunch"))


def test_an_unsure_one_is_a_request_with_a_warning_for_review() -> None:
    request = parse_email(mail(UNSURE[1]))
    assert request.kind == "spot_ids" and request.spots == [] and request.warnings


def test_spot_ids_win_over_a_question() -> None:
    request = parse_email(mail("Any update on our request? Also Lot D: 17777"))
    assert request.kind == "spot_ids" and [s.spot_id for s in request.spots] == ["17777"]
