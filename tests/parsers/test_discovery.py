"""Finding SpotIDs: what the email asks, and the names matched to HotSpot's spots."""

from __future__ import annotations

from parsers.discovery import Candidate, asks_to_find_spot_ids, propose

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
