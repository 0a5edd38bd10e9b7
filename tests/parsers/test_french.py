"""French as customers in Québec write it, bilingual emails, and spreadsheets without a header."""

from __future__ import annotations

import pytest

from parsers import NotASpotIDRequest, parse_email
from parsers.extraction import Extraction
from parsers.lines import extract_text
from parsers.tables import read_csv

FRENCH = [
    (
        "Pour Place Ville-Marie, le SpotID est 18001, et pour Berri, c'est le 18002.",
        [("Place Ville-Marie", "18001"), ("Berri", "18002")],
    ),
    ("Stationnement Wellington — n° 20001", [("Stationnement Wellington", "20001")]),
    ("Stationnement\u00a0Wellington\u202f: 20001", [("Stationnement Wellington", "20001")]),
    ("«\u202fPlace Dupuis\u202f»\u202f: 18003", [("Place Dupuis", "18003")]),
    (
        "Le SpotID du stationnement « Complexe Desjardins » est 18010.",
        [("Complexe Desjardins", "18010")],
    ),
    ("Pour le stationnement Viger, c'est le 18004.", [("Viger", "18004")]),
    ("L'emplacement Place Dupuis a le SpotID 18003.", [("Place Dupuis", "18003")]),
    ("L'Esplanade : 18005", [("L'Esplanade", "18005")]),
    ("Voici le SpotID de l'emplacement Square-Victoria : 18006", [("Square-Victoria", "18006")]),
    ("Stationnement no 3 : 18030", [("Stationnement no 3", "18030")]),
    ("Stationnement Berri no 18002", [("Stationnement Berri", "18002")]),
    ("Stationnement Berri\nIdentifiant : 18002", [("Stationnement Berri", "18002")]),
    ("SpotID 18005 (Stationnement Lionel-Groulx)", [("Stationnement Lionel-Groulx", "18005")]),
]


@pytest.mark.parametrize(("text", "pairs"), FRENCH)
def test_reads_french_phrasing(text: str, pairs: list[tuple[str, str]]) -> None:
    found = extract_text(text)
    assert found.pairs == pairs
    assert found.warnings == []


@pytest.mark.parametrize(
    "text",
    [
        "Tél. : 514 555-0142, poste 223",
        "En lien avec la facture no 45678 et la commande n° 33412.",
        "1000, rue De La Gauchetière Ouest, bureau 2400",
        "NEQ 1171234567 — TPS 123456789 RT0001",
        "Le tarif est de 1 200 $ par mois, pour 120 places.",
        "Registered in England No. 1234567",
    ],
)
def test_french_noise_is_not_a_spotid(text: str) -> None:
    found = extract_text(text)
    assert found.pairs == [] and found.warnings == []


@pytest.mark.parametrize(
    "text",
    [
        "Nous avons deux terrains sur Sherbrooke, l'un a le 18040 et l'autre le 18041.",
        "Nous avons 120 places au Stationnement Berri : 18002",
        "Stationnement Berri : 18002 ou 18003",
    ],
)
def test_a_french_sentence_that_cannot_be_cut_is_held(text: str) -> None:
    found = extract_text(text)
    assert found.pairs == [] and len(found.warnings) == 1


def test_a_place_named_in_both_languages_is_one_pair() -> None:
    found = extract_text(
        "Stationnement Wellington : 20001\nPlace Ville-Marie : 18001\n\n"
        "Wellington Parking: 20001\nPlace Ville-Marie: 18001"
    )
    assert found.pairs == [("Stationnement Wellington", "20001"), ("Place Ville-Marie", "18001")]
    assert found.conflict_warnings() == []


def test_a_place_named_in_both_languages_with_two_spotids_is_a_conflict() -> None:
    found = extract_text("Stationnement Berri : 18002\nBerri Parking: 18003")
    assert len(found.conflict_warnings()) == 1


def test_different_places_sharing_a_spotid_still_conflict() -> None:
    found = Extraction()
    found.add_pair("Stationnement Berri", "18002")
    found.add_pair("Place Dupuis", "18002")
    assert len(found.pairs) == 2 and len(found.conflict_warnings()) == 1


@pytest.mark.parametrize(
    ("csv", "pairs"),
    [
        ("Berri;18002\nViger;18004", [("Berri", "18002"), ("Viger", "18004")]),
        ("18002;Berri\n18004;Viger", [("Berri", "18002"), ("Viger", "18004")]),
        ("Liste de Julie\n\nBerri;18002\nViger;18004", [("Berri", "18002"), ("Viger", "18004")]),
        (
            "Berri;18002;1621, rue Berri\nViger;18004;455, rue Viger",
            [("Berri", "18002"), ("Viger", "18004")],
        ),
    ],
)
def test_a_sheet_without_header_is_read_when_its_layout_leaves_no_doubt(
    csv: str, pairs: list[tuple[str, str]]
) -> None:
    found = read_csv(csv, "spots.csv")
    assert found.pairs == pairs and found.warnings == []


@pytest.mark.parametrize(
    "csv",
    [
        "Berri;18002;450\nViger;18004;320",  # two columns of numbers: which one?
        "Berri;Est;18002\nViger;Ouest;18004",  # two text columns: which one names the lot?
        "Berri;Montréal\nViger;Montréal",  # no SpotIDs at all
    ],
)
def test_a_sheet_without_header_is_held_when_in_doubt(csv: str) -> None:
    found = read_csv(csv, "spots.csv")
    assert found.pairs == [] and len(found.warnings) == 1


@pytest.mark.parametrize(
    "subject",
    [
        "Réponse automatique : Intégration HotSpot",
        "Absente du bureau jusqu'au 9 mars",
        "Absent du bureau",
        "Message d'absence : Julie Tremblay",
    ],
)
def test_french_auto_replies_are_refused(subject: str) -> None:
    raw = f"From: julie@gestionqc.example\nSubject: {subject}\n\nStationnement Berri : 18002\n"
    with pytest.raises(NotASpotIDRequest, match="auto-reply"):
        parse_email(raw.encode())
