"""Charset handling: labels are hints; cp1252 hides behind latin-1 and us-ascii labels."""

from __future__ import annotations

import pytest

from parsers.mime import decode

TEXT = "Caf\u00e9 Lot \u2013 14283 \u201cnorth\u201d \u20ac"


@pytest.mark.parametrize(
    ("data", "charset"),
    [
        (TEXT.encode("cp1252"), "iso-8859-1"),
        (TEXT.encode("cp1252"), "latin1"),
        (TEXT.encode("cp1252"), "us-ascii"),
        (TEXT.encode("cp1252"), "windows-1252"),
        (TEXT.encode("cp1252"), None),
        (TEXT.encode("cp1252"), "x-unknown"),
        (TEXT.encode("utf-8"), "iso-8859-1"),
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("utf-8"), None),
        (TEXT.encode("utf-8-sig"), "us-ascii"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("utf-16"), None),
    ],
)
def test_decodes_what_was_meant(data: bytes, charset: str | None) -> None:
    assert decode(data, charset) == TEXT


def test_other_single_byte_charsets_follow_their_label() -> None:
    assert decode("\u0141\u00f3d\u017a".encode("iso-8859-2"), "iso-8859-2") == "\u0141\u00f3d\u017a"
    assert (
        decode("\u041f\u0430\u0440\u043a".encode("koi8-r"), "koi8-r") == "\u041f\u0430\u0440\u043a"
    )


def test_bytes_no_charset_can_hold_still_decode() -> None:
    assert decode(b"Lot \x81\x8d\x8f: 14283", "cp1252") == "Lot \x81\x8d\x8f: 14283"


def test_utf16_without_bom_follows_its_label() -> None:
    assert decode("Caf\u00e9: 14283".encode("utf-16-le"), "utf-16le") == "Caf\u00e9: 14283"


def test_unknown_charset_label_falls_back_to_utf8() -> None:
    assert decode("Caf\u00e9 \u2013 14283".encode(), "bogus-charset") == "Caf\u00e9 \u2013 14283"
