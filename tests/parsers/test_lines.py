"""Line-level reading: separators, labels, orders, noise numbers and ambiguous lines."""

from __future__ import annotations

import time

import pytest

from parsers.lines import extract_text

A = ("Lot A", "14283")
B = ("Lot B", "15320")

PAIRS = [
    # separators
    ("Lot A: 14283", [A]),
    ("Lot A:14283", [A]),
    ("Lot A - 14283", [A]),
    ("Lot A-14283", [A]),
    ("Lot A \u2013 14283", [A]),
    ("Lot A \u2014 14283", [A]),
    ("Lot A \u2012 14283", [A]),
    ("Lot A \u2015 14283", [A]),
    ("Lot A \u2212 14283", [A]),
    ("Lot A = 14283", [A]),
    ("Lot A -> 14283", [A]),
    ("Lot A \u2192 14283", [A]),
    ("Lot A\t14283", [A]),
    ("Lot A      14283", [A]),
    ("Lot A 14283", [A]),
    ("Lot A | 14283", [A]),
    ("Lot A / 14283", [A]),
    # bullets
    ("- Lot A: 14283", [A]),
    ("* Lot A: 14283", [A]),
    ("\u2022 Lot A: 14283", [A]),
    ("1. Lot A: 14283", [A]),
    ("2) Lot A: 14283", [A]),
    ("(3) Lot A: 14283", [A]),
    ("b) Lot A: 14283", [A]),
    # labels
    ("Lot A: SpotID 14283", [A]),
    ("Lot A: spot id #14283", [A]),
    ("Lot A \u2014 Spot ID: 14283", [A]),
    ("Lot A (SpotID: #14283)", [A]),
    ("Lot A [HotSpot ID 14283]", [A]),
    ("Lot A - SpotID14283", [A]),
    ("Lot A: Spot-ID 14283", [A]),
    # SpotID first
    ("14283 - Lot A", [A]),
    ("SpotID 14283 (Lot A)", [A]),
    ("spot id #14283 - Lot A", [A]),
    ("#14283 Lot A", [A]),
    ("14283 is for Lot A", [A]),
    ("14283 (SpotID for Lot A)", [A]),
    ("Please use 14283 for Lot A.", [A]),
    # sentences
    ("Lot A uses SpotID 14283 and Lot B is 15320", [A, B]),
    ("The SpotID for Lot A is 14283.", [A]),
    ("For Lot A, the SpotID is 14283", [A]),
    ("Lot A's SpotID is 14283.", [A]),
    ("Hi Dana, Lot A is 14283", [A]),
    ("Sorry, one more: Lot A: 14283", [A]),
    ("Adding Lot A: 14283.", [A]),
    ("P.S. Lot A: 14283", [A]),
    ("Please add Lot A with SpotID 14283.", [A]),
    ("We'd like to connect Lot A (14283) and Lot B (15320).", [A, B]),
    ("SpotID 14283 is for Lot A and SpotID 15320 belongs to Lot B.", [A, B]),
    ("Yes, Lot A is 14283", [A]),
    ("Please change Lot A to 14283", [A]),
    # several on one line
    ("Lot A: 14283, Lot B: 15320", [A, B]),
    ("Lot A: 14283; Lot B: 15320", [A, B]),
    ("Lot A 14283 Lot B 15320", [A, B]),
    ("14283 \u2013 Lot A, 15320 \u2013 Lot B", [A, B]),
    ("Lot A (SpotID 14283), Lot B (SpotID 15320)", [A, B]),
    ("SpotIDs: Lot A 14283, Lot B 15320", [A, B]),
    # location names
    ("Parking Caf\u00e9 Z\u00fcrich : 14283", [("Parking Caf\u00e9 Z\u00fcrich", "14283")]),
    ("Lot\u00a0A\u00a0: 14283", [A]),
    ("Lot   A.: 14283", [A]),
    ("St. Mary's Garage: 14283", [("St. Mary's Garage", "14283")]),
    ("Lot 101: 14283", [("Lot 101", "14283")]),
    ("Lot 101 - 14283, Lot 102 - 15320", [("Lot 101", "14283"), ("Lot 102", "15320")]),
    ("Airport Lot 14283", [("Airport Lot", "14283")]),
    ("Downtown Parking 14283", [("Downtown Parking", "14283")]),
    (
        "Main Street Garage 14283 Airport Lot 15320",
        [("Main Street Garage", "14283"), ("Airport Lot", "15320")],
    ),
    ("Lot A #14283", [A]),
    ("We have Lot A: 14283", [A]),
    ("There's also Lot A, which uses SpotID 14283", [A]),
    ("Store #1234 - 14283", [("Store #1234", "14283")]),
    ("14283 - Lot 101", [("Lot 101", "14283")]),
    ("Garage 2 Level P1: 14283", [("Garage 2 Level P1", "14283")]),
    ("Lot OR: 14283", [("Lot OR", "14283")]),
    ("Lot T: 14283", [("Lot T", "14283")]),
    ("Lot A (North): 14283", [("Lot A (North)", "14283")]),
    ("The Plaza Garage: 14283", [("The Plaza Garage", "14283")]),
    ("Please use 14283 for the Riverside Deck", [("Riverside Deck", "14283")]),
    ("Lot A: 014283", [("Lot A", "014283")]),
    # table rows without a header
    ("Lot A | 200 Main St | 14283", [A]),
    ("Lot A\t200 Main St\t14283", [A]),
    ("1  Lot A  14283", [A]),
    # noise around a real pair
    ("Lot A: 14283 (approx. 120 spaces)", [A]),
    ("Lot A: 14283, call 312-555-0100 with questions", [A]),
    ("Lot A, 200 Main St: 14283", [("Lot A, 200 Main St", "14283")]),
    ("Lot A - 14283 - opened in 2019", [A]),
]


@pytest.mark.parametrize(("text", "pairs"), PAIRS)
def test_reads_pair(text: str, pairs: list[tuple[str, str]]) -> None:
    found = extract_text(text)
    assert found.pairs == pairs
    assert found.warnings == []


NOISE = [
    "Acme Parking | 200 Main St, Chicago, IL 60601 | +1 (312) 555-0100",
    "Call me at 312-555-0100",
    "Phone: 312 555 0100",
    "Mobile +44 20 7946 0958",
    "T: 020 7946 0958",
    "Please call me back at 5550100",
    "Suite 10250, Chicago IL 60601",
    "Springfield, Illinois 62701",
    "Toronto, ON M5V 3L9",
    "1234 rue Sainte-Catherine O, Montr\u00e9al, QC H3G 1P1",
    "Hauptstra\u00dfe 5, 10115 Berlin",
    "PO Box 4411",
    "ZIP: 60601",
    "Invoice #12345",
    "PO 55555",
    "P.O. 55555",
    "Ref: 123456",
    "Order number: 778899",
    "Ticket #4455 is still open",
    "Our account number is 123456",
    "Your verification code is 483920",
    "Case 00123456 updated",
    "Meeting on 2025-06-02 at 10:30",
    "06/02/2025",
    "02.06.2025",
    "June 2, 2025",
    "2 June 2025",
    "Monday, June 2, 2025 10:00 AM",
    "Q1 2025 results",
    "We opened in 2019.",
    "\u00a9 2025 Acme Parking",
    "Total: $1,234.00",
    "Price 12345 USD",
    "\u20ac 1.500,00",
    "$12,500 per year",
    "We have 250 spaces",
    "about 1500 cars per day",
    "Capacity: 320",
    "12% more",
    "https://acme.example/unsubscribe?id=12345678",
    "jane.12345@acme.example",
    "Lot 14283",
    "Hi, SpotIDs below.",
]


@pytest.mark.parametrize("text", NOISE)
def test_noise_is_not_a_spotid(text: str) -> None:
    found = extract_text(text)
    assert found.pairs == []
    assert found.warnings == []


AMBIGUOUS = [
    "Lot C: 14283 or 14284",
    "Lot A: 14283/14284",
    "Lot A: 14283 (was 14280)",
    "Lot B should be 15321 instead of 15320",
    "SpotID 14283",
    "Our SpotID is 14283.",
    "Lot A: SpotID 12",
    "SpotID: 123456789",
    "Lot A: 123456789",
    "SpotID: 14,283",
    "Lots A and B: 14283 and 15320",
    "We would like you to set up the one next to our office at 14283",
    "SpotID 14283 is in the sheet too.",
]


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_ambiguous_line_is_a_warning_quoting_it(text: str) -> None:
    found = extract_text(text)
    assert found.pairs == []
    assert len(found.warnings) == 1
    assert f'"{text}"' in found.warnings[0]


NEIGHBOURS = [
    ("Location: Lot A\nSpotID: 14283", [A]),
    ("SpotID: 14283\nLocation: Lot A", [A]),
    ("Lot A:\nSpotID 14283", [A]),
    ("Lot A\nSpotID 14283", [A]),
    ("Location 1: Lot A\nSpotID 1: 14283\nLocation 2: Lot B\nSpotID 2: 15320", [A, B]),
    ("SpotID: 14283\nLocation: Lot A\nSpotID: 15320\nLocation: Lot B", [A, B]),
    ("Site name: Lot A\nAddress: 200 Main St\nSpotID: 14283", [A]),
    ("Location\tLot A\nSpotID\t14283", [A]),
]


@pytest.mark.parametrize(("text", "pairs"), NEIGHBOURS)
def test_lone_spotid_takes_the_name_of_its_block(text: str, pairs: list[tuple[str, str]]) -> None:
    found = extract_text(text)
    assert found.pairs == pairs
    assert found.warnings == []


@pytest.mark.parametrize(
    "text",
    [
        "Here are the SpotIDs:\nSpotID 14283",  # an introduction is not a location
        "Lot A:\n\nSpotID 14283",  # a blank line ends the block
        "Lot A\n14283",  # a bare title only names a labelled SpotID
        "Please set these up:\nSpotID 14283",
    ],
)
def test_lone_spotid_without_a_name_is_a_warning(text: str) -> None:
    found = extract_text(text)
    assert found.pairs == []
    assert len(found.warnings) == 1


TABLES = [
    ("Location  SpotID\nLot A     14283\nLot B     15320", [A, B]),
    ("SpotID    Location\n14283     Lot A\n15320     Lot B", [A, B]),
    ("| Location | SpotID |\n|---|---|\n| Lot A | 14283 |\n| Lot B | 15320 |", [A, B]),
    ("+-------+-------+\n| Site | Spot ID |\n+------+------+\n| Lot A | 14283 |", [A]),
    ("Location\tAddress\tSpotID\nLot A\t200 Main St\t14283\nLot B\t\t15320", [A, B]),
    ("location,spot_id\nLot A,14283\nLot B,15320", [A, B]),
    ("Standort;SpotID\nLot A;14283", [A]),
    ("# | Location | SpotID\n1 | Lot A | 14283\n2 | Lot B | 15320", [A, B]),
    (
        "Location        Address                 SpotID\n"
        "Lot A           200 Main St             14283\n"
        "Lot B                                   15320",
        [A, B],
    ),
]


@pytest.mark.parametrize(("text", "pairs"), TABLES)
def test_reads_tables_by_header(text: str, pairs: list[tuple[str, str]]) -> None:
    found = extract_text(text)
    assert found.pairs == pairs
    assert found.warnings == []


def test_table_row_with_a_bad_value_is_a_warning() -> None:
    found = extract_text("Location | SpotID\nLot A | 14283\nLot B | pending")
    assert found.pairs == [A]
    assert found.warnings == ['table row without a clear location and SpotID: "Lot B | pending"']


def test_pairs_keep_message_order_and_drop_repeats() -> None:
    text = "Lot B: 15320\nLocation  SpotID\nLot A     14283\n\nLot B: 15320\nLot C: 16001"
    assert extract_text(text).pairs == [B, A, ("Lot C", "16001")]


def test_over_long_lines_are_read_by_sentence() -> None:
    text = "Filler words here. " * 150 + "Lot A: 14283. " + "More filler. " * 50
    assert extract_text(text).pairs == [A]


@pytest.mark.parametrize(
    "text",
    [
        " " * 1999 + "Lot A 14283",
        "Lot A" + "\t" * 1990 + "14283",
        "Lot A" + ": -" * 600 + "14283",
        "SpotID " * 280 + "14283",
        "1 " * 999,
        "\n".join(f"Lot {i}: {10000 + i}" for i in range(2000)),
    ],
    ids=["spaces", "tabs", "separators", "labels", "digits", "many-lines"],
)
def test_pathological_text_stays_fast(text: str) -> None:
    started = time.perf_counter()
    extract_text(text)
    assert time.perf_counter() - started < 3
