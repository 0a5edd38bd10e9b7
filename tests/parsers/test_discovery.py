"""Finding SpotIDs: what the email asks, and the names matched to HotSpot's spots."""

from __future__ import annotations

import pytest

from parsers.discovery import (
    Candidate,
    asks_to_find_spot_ids,
    locations_without_spot_ids,
    propose,
)

SPOTS = [
    Candidate("14283", "Lot A"),
    Candidate("15320", "Lot B"),
    Candidate("16001", "Garage C"),
    Candidate("17777", "Lot D"),
    Candidate("20001", "Main Street North"),
    Candidate("20002", "Main Street South"),
    Candidate("20003", "Stationnement Wellington"),
]


def test_each_kind_of_match() -> None:
    got = propose(
        ["Lot A", "lot-b", "Wellingtn", "Lot E", "Zoo"],
        SPOTS,
    )
    assert [(p.location, p.spot_id, p.how) for p in got] == [
        ("Lot A", "14283", "exact"),
        ("lot-b", "15320", "normalised"),
        ("Wellingtn", "20003", "fuzzy"),
        ("Lot E", None, "ambiguous"),  # as near Lot A, B or D: no guess
        ("Zoo", None, "missing"),
    ]


def test_generic_words_do_not_count() -> None:
    [got] = propose(["Wellington Parking"], SPOTS)
    assert (got.spot_id, got.how) == ("20003", "normalised")


def test_one_spot_is_never_proposed_for_two_locations() -> None:
    got = propose(["Garage C", "Garage  C."], SPOTS)
    assert [(p.spot_id, p.how) for p in got] == [("16001", "exact"), (None, "ambiguous")]
    got = propose(["Garag C", "Garage  C."], SPOTS)
    assert [p.how for p in got] == ["ambiguous", "ambiguous"]


def test_the_email_says_it_does_not_know_its_spot_ids() -> None:
    text = "Hi,\nWe'd like HotSpot, but we don't know our SpotIDs. Our lots:\n- Lot A\n- Garage C\n"
    assert asks_to_find_spot_ids(None, text) == ["Lot A", "Garage C"]
    assert asks_to_find_spot_ids(None, "Bonjour, nous ne connaissons pas nos SpotID.") == []
    assert asks_to_find_spot_ids(None, "Where do I find the SpotID for our locations?") == []
    assert asks_to_find_spot_ids(None, "Do we already have HotSpot set up?") is None


@pytest.mark.parametrize(
    "line",
    [
        "Lot D: ?",
        "Lot D: unknown",
        "- Lot D: we don't know its SpotID",
        "Lot D - TBD",
        "Lot D : inconnu",
        "Lot D — à confirmer",
        "Lot D: nous ne savons pas",
    ],
)
def test_a_location_named_without_its_spot_id_is_kept(line: str) -> None:
    text = f"Hi,\nLot A: 14283\n{line}\nThanks"
    assert locations_without_spot_ids("SpotIDs", text, named=["Lot A"]) == ["Lot D"]


def test_locations_listed_after_saying_the_spot_ids_are_unknown_are_kept() -> None:
    text = "Lot A: 14283\nWe don't know our SpotIDs for these:\n- Lot D\n- Lot A\n"
    assert locations_without_spot_ids(None, text, named=["Lot A"]) == ["Lot D"]


@pytest.mark.parametrize(
    "line", ["Note: ?", "Subject: unknown", "Spot ID: ?", "What about the others: ?", "A: 14283"]
)
def test_labels_and_sentences_are_no_location(line: str) -> None:
    assert locations_without_spot_ids(None, f"Lot A: 14283\n{line}", named=["Lot A"]) == []
