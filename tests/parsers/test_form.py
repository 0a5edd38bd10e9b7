"""The web form's JSON: shape checks name the field, SpotIDs are kept as written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parsers import NotASpotIDRequest, SpotEntry, UnreadableInput, parse_form


def _form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "company": "Acme Parking",
        "contact_email": "  Jane.Smith@ACME.example ",
        "spots": [
            {"location": "Lot A", "spot_id": "14283"},
            {"location": "  Parking\u00a0Caf\u00e9   Z\u00fcrich. ", "spot_id": 15320},
        ],
    }
    form.update(changes)
    return form


def test_reads_a_mapping() -> None:
    request = parse_form(_form())
    assert request.source == "form"
    assert request.company == "Acme Parking"
    assert request.sender == "jane.smith@acme.example"
    assert request.spots == [
        SpotEntry(location="Lot A", spot_id="14283"),
        SpotEntry(location="Parking Caf\u00e9 Z\u00fcrich", spot_id="15320"),
    ]
    assert request.warnings == []


@pytest.mark.parametrize(
    "encode",
    [
        lambda form: json.dumps(form),
        lambda form: json.dumps(form).encode(),
        lambda form: "\ufeff" + json.dumps(form),
        lambda form: b"\xef\xbb\xbf" + json.dumps(form, ensure_ascii=False).encode(),
        lambda form: json.dumps(form).encode("utf-16"),
    ],
    ids=["str", "bytes", "str-bom", "bytes-bom", "utf-16"],
)
def test_reads_json_text_and_bytes(encode: Any) -> None:
    assert parse_form(encode(_form())) == parse_form(_form())


@pytest.mark.parametrize(
    ("spot_id", "kept"),
    [(" 14283 ", "14283"), (14283, "14283"), ("12", "12"), ("HS-14283", "HS-14283"), (7, "7")],
)
def test_spot_id_is_kept_as_written(spot_id: object, kept: str) -> None:
    request = parse_form(_form(spots=[{"location": "Lot A", "spot_id": spot_id}]))
    assert request.spots[0].spot_id == kept


def test_identical_rows_count_once() -> None:
    row = {"location": "Lot A", "spot_id": "14283"}
    assert len(parse_form(_form(spots=[row, dict(row)])).spots) == 1


def test_empty_company_is_none() -> None:
    assert parse_form(_form(company="  ")).company is None


def test_no_spots_is_not_a_request() -> None:
    with pytest.raises(NotASpotIDRequest, match="no spots"):
        parse_form(_form(spots=[]))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"company": None}, "'company'"),
        ({"company": 12}, "'company'"),
        ({"contact_email": None}, "'contact_email'"),
        ({"contact_email": "jane at acme"}, "'contact_email'"),
        ({"contact_email": ["jane@acme.example"]}, "'contact_email'"),
        ({"spots": None}, "'spots'"),
        ({"spots": {"location": "Lot A"}}, "'spots'"),
        ({"spots": ["Lot A: 14283"]}, "'spots[0]'"),
        ({"spots": [{"spot_id": "14283"}]}, "'spots[0].location'"),
        ({"spots": [{"location": " . ", "spot_id": "14283"}]}, "'spots[0].location'"),
        ({"spots": [{"location": "Lot A"}]}, "'spots[0].spot_id'"),
        ({"spots": [{"location": "Lot A", "spot_id": "  "}]}, "'spots[0].spot_id'"),
        ({"spots": [{"location": "Lot A", "spot_id": True}]}, "'spots[0].spot_id'"),
        ({"spots": [{"location": "Lot A", "spot_id": 14283.0}]}, "'spots[0].spot_id'"),
        (
            {"spots": [{"location": "Lot A", "spot_id": "1"}, {"location": 5}]},
            "'spots[1].location'",
        ),
    ],
)
def test_ill_shaped_form_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(UnreadableInput, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_form(_form(**changes))


@pytest.mark.parametrize(
    "payload",
    [b"", b"   ", b"{", b"not json", b"[1, 2]", b'"text"', b"null", b"\xff\xfe\x00", "[" * 100_000],
)
def test_not_a_json_object_is_unreadable(payload: bytes | str) -> None:
    with pytest.raises(UnreadableInput):
        parse_form(payload)


def test_huge_integer_spot_id_is_unreadable_not_a_crash() -> None:
    with pytest.raises(UnreadableInput, match="spot_id"):
        parse_form(_form(spots=[{"location": "Lot A", "spot_id": 10**5000}]))
