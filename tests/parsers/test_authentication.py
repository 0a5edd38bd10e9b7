"""Reading who sent a message: From headers and Authentication-Results, tolerantly."""

from __future__ import annotations

import pytest

from parsers import parse_email
from parsers.authentication import parse_authentication_results


def _mail(*headers: tuple[str, str], body: str = "Lot A: 14283\n") -> bytes:
    lines = [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join([*lines, "Subject: SpotIDs", "", body])).encode()


def test_results_with_comments_quotes_and_properties() -> None:
    parsed = parse_authentication_results(
        "MX.Offstreet.example 1; dkim=pass (2048-bit key) header.d=acme.example "
        'header.i=@acme.example; spf=softfail (sender ip is 1.2.3.4) smtp.mailfrom="a;b@x"; '
        "dmarc=PASS (p=reject dis=none) header.from=acme.example"
    )
    assert parsed is not None
    assert parsed.authserv_id == "mx.offstreet.example"
    assert [(r.method, r.result) for r in parsed.results] == [
        ("dkim", "pass"),
        ("spf", "softfail"),
        ("dmarc", "pass"),
    ]
    assert parsed.results[0].properties == {
        "header.d": "acme.example",
        "header.i": "@acme.example",
    }
    assert parsed.results[1].properties == {"smtp.mailfrom": "a;b@x"}
    assert parsed.results[2].properties == {"header.from": "acme.example"}


@pytest.mark.parametrize("value", ["", "   ", "(only a comment)"])
def test_results_without_authserv_id(value: str) -> None:
    assert parse_authentication_results(value) is None


def test_no_result_and_versioned_methods() -> None:
    none = parse_authentication_results("mx.example; none")
    assert none is not None and none.results == []
    versioned = parse_authentication_results("mx.example; dkim/1=pass header.d=a.example")
    assert versioned is not None and versioned.results[0].method == "dkim"


def test_every_header_is_kept_with_its_writer() -> None:
    raw = _mail(
        ("From", "jane@acme.example"),
        ("Authentication-Results", "mx.offstreet.example; dmarc=pass header.from=acme.example"),
        ("Authentication-Results", "evil.test; dmarc=pass"),
    )
    evidence = parse_email(raw).sender_evidence
    assert evidence is not None
    assert [h.authserv_id for h in evidence.authentication_results] == [
        "mx.offstreet.example",
        "evil.test",
    ]


@pytest.mark.parametrize(
    ("froms", "addresses", "defect"),
    [
        (["jane@acme.example"], ["jane@acme.example"], None),
        (["Jane <jane@acme.example>"], ["jane@acme.example"], None),
        (["jane@acme.example <attacker@evil.test>"], ["jane@acme.example"], "invalid"),
        (["<@evil.test:jane@acme.example>"], ["jane@acme.example"], "route"),
        (["jane@acme.example, bob@acme.example"], ["jane@acme.example", "bob@acme.example"], None),
        (["jane@acme.example", "x@evil.test"], ["jane@acme.example", "x@evil.test"], None),
        # The stdlib's address parser raises IndexError on it (found by the fuzzer).
        (["Jane <"], [], "unreadable From header"),
    ],
)
def test_from_evidence(froms: list[str], addresses: list[str], defect: str | None) -> None:
    raw = _mail(*(("From", value) for value in froms))
    evidence = parse_email(raw).sender_evidence
    assert evidence is not None
    assert evidence.from_headers == len(froms)
    assert evidence.from_addresses == addresses
    if defect is None:
        assert evidence.from_defects == []
    else:
        assert any(defect in found for found in evidence.from_defects), evidence.from_defects


def test_header_flood_is_bounded() -> None:
    raw = _mail(
        ("From", "jane@acme.example"),
        *(("Authentication-Results", f"mx{n}.example; dkim=pass") for n in range(500)),
    )
    evidence = parse_email(raw).sender_evidence
    assert evidence is not None and len(evidence.authentication_results) == 20
