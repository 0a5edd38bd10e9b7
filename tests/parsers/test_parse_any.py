"""parse_any routes JSON objects to the form parser and everything else to the email parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parsers import UnreadableInput, parse_any

FORM = {
    "company": "Acme",
    "contact_email": "jane@acme.example",
    "spots": [{"location": "Lot A", "spot_id": "14283"}],
}
SAMPLE = Path(__file__).parent / "corpus" / "samples" / "01_plain_template.eml"


@pytest.mark.parametrize(
    "payload",
    [
        json.dumps(FORM).encode(),
        b"  \r\n\t" + json.dumps(FORM).encode(),
        b"\xef\xbb\xbf" + json.dumps(FORM).encode(),
        b"\xef\xbb\xbf \n" + json.dumps(FORM).encode(),
        json.dumps(FORM).encode("utf-16"),
        json.dumps(FORM).encode("utf-16-le"),
        json.dumps(FORM),
    ],
)
def test_json_object_is_a_form(payload: bytes | str) -> None:
    assert parse_any(payload).source == "form"


def test_email_is_an_email() -> None:
    assert parse_any(SAMPLE.read_bytes()).source == "email"


@pytest.mark.parametrize("payload", [b"{", b'{"company": 1}', b"{}"])
def test_broken_json_object_is_unreadable_as_a_form(payload: bytes) -> None:
    with pytest.raises(UnreadableInput, match="form"):
        parse_any(payload)


@pytest.mark.parametrize("payload", [b"[1, 2]", b"", b"hello"])
def test_anything_else_is_read_as_an_email(payload: bytes) -> None:
    with pytest.raises(UnreadableInput, match="not an email"):
        parse_any(payload)
