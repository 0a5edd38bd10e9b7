"""Hostile input: the parser's work grows linearly, and past its bounds it says so.

Nothing here is timed (speed is `make bench`'s): linearity is shown by counting the characters
the parser's regular expressions are given to scan, and the bounds by what they produce.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import (
    Limits,
    MessageTooLarge,
    NotASpotIDRequest,
    UnreadableInput,
    locations,
    noise,
    normalize,
    parse_any,
    parse_email,
    quoting,
    tables,
)
from parsers import lines as lines_module
from parsers.lines import extract_text
from parsers.sheets import read_xlsx

UNBOUNDED = Limits(
    max_message_bytes=10**9,
    max_lines=10**9,
    max_number_lines=10**9,
    max_line_chars=10**9,
    max_numbers_per_line=10**9,
)


def _mail(body: str, *, subtype: str = "plain", **headers: str) -> bytes:
    head = {"From": "jane@acme.example", "Subject": "SpotIDs", **headers}
    lines = [f"{name}: {value}" for name, value in head.items()]
    lines.append(f"Content-Type: text/{subtype}; charset=utf-8")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


class _Counted:
    """A compiled pattern that adds the length of every text it is given to a counter."""

    _CALLS = {"search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split"}

    def __init__(self, pattern: re.Pattern[str], counter: list[int]) -> None:
        self._pattern = pattern
        self._counter = counter

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._pattern, name)
        if name not in self._CALLS:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            text = args[1] if name in ("sub", "subn") else args[0]
            pos = args[1] if name not in ("sub", "subn") and len(args) > 1 else 0
            end = args[2] if name not in ("sub", "subn") and len(args) > 2 else len(text)
            self._counter[0] += max(0, min(end, len(text)) - pos)
            return attribute(*args, **kwargs)

        return call


@pytest.fixture
def scanned(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Count what every module-level pattern of the line reader scans."""
    counter = [0]
    for module in (lines_module, locations, noise, normalize, quoting, tables):
        for name, value in list(vars(module).items()):
            if isinstance(value, re.Pattern):
                monkeypatch.setattr(module, name, _Counted(value, counter))
    monkeypatch.setattr(noise, "_PATTERNS", [_Counted(p, counter) for p in noise._PATTERNS])
    monkeypatch.setattr(
        noise, "_EXACT", [p if p is None else _Counted(p, counter) for p in noise._EXACT]
    )
    yield counter


def _cost(counter: list[int], text: str) -> int:
    counter[0] = 0
    extract_text(text, UNBOUNDED)
    return counter[0]


@pytest.mark.parametrize(
    "unit",
    [
        "Lot A 14283 ",
        "14283 ",
        "14283,",
        "SpotID 14283 (Lot D) ",
        "the the SpotID 14283 ",
        "Lot A: 14283. ",
        "Lot 101: 14283; ",
        "rue 14283 ",
        "1,2,3 ",
    ],
)
def test_one_line_costs_grow_linearly(scanned: list[int], unit: str) -> None:
    """Four times the numbers on one line: four times the scanning, not sixteen."""
    small = _cost(scanned, unit * 200)
    large = _cost(scanned, unit * 800)
    assert large <= 4.5 * small, (small, large)


@pytest.mark.parametrize("line", ["Lot A: 14283", "", "> Lot A: 14283", "Dana wrote:"])
def test_many_lines_cost_grows_linearly(scanned: list[int], line: str) -> None:
    small = _cost(scanned, "\n".join([line] * 500))
    large = _cost(scanned, "\n".join([line] * 2000))
    assert large <= 4.5 * small, (small, large)


def test_reply_splitting_is_linear_in_lines(scanned: list[int]) -> None:
    text = "\n".join(["Dana wrote:", ""] * 1000)
    scanned[0] = 0
    quoting.split(text[: len(text) // 4])
    small = scanned[0]
    scanned[0] = 0
    quoting.split(text)
    assert scanned[0] <= 4.5 * small


def test_a_message_over_the_size_bound_is_refused_unread() -> None:
    raw = _mail("Lot A: 14283\n" * 100)
    with pytest.raises(MessageTooLarge, match="over the 1,000 bytes read"):
        parse_email(raw, limits=Limits(max_message_bytes=1_000))
    with pytest.raises(MessageTooLarge):
        parse_any(raw, limits=Limits(max_message_bytes=1_000))
    assert issubclass(MessageTooLarge, UnreadableInput)  # intake files it for review
    assert parse_email(raw).spots  # under the default bound it is read


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Subject": "Lot A 14283 " * 2_000}, "Subject header is"),
        ({"Subject": "=?utf-8?q?Lot_A?= " * 1_000}, "Subject header is"),
        ({"From": "a@b.example, " * 2_000}, "From header is"),
        ({"X-Filler": "x"}, None),
    ],
)
def test_an_over_long_header_is_refused_unread(headers: dict[str, str], reason: str) -> None:
    raw = _mail("Lot A: 14283\n", **headers)
    if reason is None:
        assert parse_email(raw).spots
        return
    with pytest.raises(MessageTooLarge, match=reason):
        parse_email(raw)


def test_many_header_fields_and_many_parts_are_refused() -> None:
    fields = "".join(f"X-Filler-{n}: x\r\n" for n in range(1_500))
    with pytest.raises(MessageTooLarge, match="fields"):
        parse_email(fields.encode() + _mail("Lot A: 14283\n"))
    part = "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLot A: 14283\r\n"
    parts = (
        "From: jane@acme.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + part * 3_000
        + "--b--\r\n"
    )
    with pytest.raises(MessageTooLarge, match="headers are over"):
        parse_email(parts.encode())


def test_nested_comments_in_from_are_unreadable_not_a_crash() -> None:
    raw = _mail("Lot A: 14283\n", From="jane@acme.example " + "(" * 3_000 + ")" * 3_000)
    with pytest.raises(UnreadableInput, match="nested too deeply"):
        parse_email(raw)


def test_a_line_over_the_length_bound_is_a_warning() -> None:
    line = "Lot A 14283 " * 1_000  # 12,000 characters, one line, no sentence end
    request = parse_email(_mail(f"{line}\nLot B: 15320\n"))
    assert [(s.location, s.spot_id) for s in request.spots] == [("Lot B", "15320")]
    assert len(request.warnings) == 1 and "too long to read" in request.warnings[0]


def test_a_long_line_without_spotid_digits_is_skipped_quietly() -> None:
    found = extract_text("https://example.com/" + "a" * 5_000 + "\nLot B: 15320")
    assert found.pairs == [("Lot B", "15320")] and found.warnings == []


def test_too_many_numbers_on_one_line_is_a_warning() -> None:
    line = ", ".join(f"Lot {chr(65 + n % 26)}{n} {10000 + n}" for n in range(60))
    found = extract_text(line)
    assert found.pairs == []
    assert len(found.warnings) == 1 and "60 numbers on one line" in found.warnings[0]
    assert len(extract_text(line, Limits(max_numbers_per_line=100)).pairs) == 60


def test_lines_past_the_bound_of_number_lines_are_left_to_a_person() -> None:
    text = "\n".join(f"Stall {n}: {100000 + n}" for n in range(30))
    found = extract_text(text, Limits(max_number_lines=10))
    assert [spot for _, spot in found.pairs] == [str(100000 + n) for n in range(10)]
    assert found.warnings == [
        "more than 10 lines hold numbers; only the first 10 were read: check the rest by hand"
    ]


def test_a_body_past_the_line_bound_is_read_up_to_it_and_held() -> None:
    body = "Lot A: 14283\n" + "\n" * 50 + "Lot B: 15320\n"
    request = parse_email(_mail(body), limits=Limits(max_lines=20))
    assert [(s.location, s.spot_id) for s in request.spots] == [("Lot A", "14283")]
    assert any("only the first 20 were read" in warning for warning in request.warnings)


def test_an_html_part_over_its_bound_is_not_rendered() -> None:
    html = "<table>" + "<tr><td>Lot A</td><td>14283</td></tr>" * 50 + "</table>"
    request = parse_email(_mail(html, subtype="html"), limits=Limits(max_html_chars=1_000))
    assert request.spots == []
    assert "HTML version" in request.warnings[0]
    assert parse_email(_mail(html, subtype="html")).spots  # under the default bound


def test_table_rows_past_the_bound_are_a_warning() -> None:
    text = "Location | SpotID\n" + "\n".join(f"Stall {n} | {100000 + n}" for n in range(12))
    found = extract_text(text, Limits(max_sheet_rows=5))
    assert len(found.pairs) == 5
    assert found.warnings == [
        "a table in the text has more than 5 rows; only the first 5 were read: "
        "check the rest by hand"
    ]


def test_a_name_running_into_the_look_back_window_is_not_guessed() -> None:
    # 300 characters of one "word" before the number: cutting it would invent a name.
    found = extract_text("Lot" + "x" * 300 + " 14283")
    assert found.pairs == [] and len(found.warnings) == 1
    assert extract_text("Whatever came before. " * 20 + "Lot A: 14283").pairs == [
        ("Lot A", "14283")
    ]


@pytest.mark.parametrize(
    "body",
    [
        "Lot A 14283 " * 900,  # the 10 KiB one-line email
        "14283," * 20_000,
        "Lot A: 14283\n" * 5_000,
        "\n" * 200_000,
        ">" * 50_000,
        "Dana wrote:\n\n" * 20_000,
    ],
    ids=["pairs-one-line", "csv-one-line", "many-pair-lines", "blank-lines", "quotes", "wrote"],
)
def test_hostile_bodies_end_in_a_request_or_a_refusal(body: str) -> None:
    try:
        request = parse_email(_mail(body))
    except NotASpotIDRequest:
        return
    assert request.spots or request.warnings


def _mask_case_insensitively(line: str) -> str:
    """The masking every pattern would do with re.I on the line itself (the reference)."""
    chars = list(line)
    for pattern in noise._PATTERNS:
        start_group = "span" if "span" in pattern.groupindex else 0
        for match in pattern.finditer(line):
            for index in range(match.start(start_group), match.end()):
                if re.match(r"\d", chars[index]):
                    chars[index] = noise.MASK
    return "".join(chars)


_NOISY = st.lists(
    st.sampled_from(
        [
            "Lot",
            "A",
            "14283",
            "INVOICE",
            "Invoice #",
            "Tel",
            "TEL:",
            "+1",
            "312-555-0100",
            "JANUARY",
            "Jan",
            "5",
            "2024",
            "SUITE",
            "rue",
            "Straße",
            "ſ",
            "ı",
            "İ",
            "K",
            "USD",
            "€",
            "CARS",
            "km",
            "m²",
            "Main",
            "St",
            "IL",
            "60601",
            "ZIP",
            "ÉTAGE",
            "Σ",
            "ς",
            "1,5",
            "ORDER",
            "P.O.",
            "#",
            "PLÄTZE",
            "µ",
            "ﬅ",
            " ",
            ",",
            ".",
            ":",
            "-",
            "(",
            "\t",
        ]
    ),
    max_size=20,
).map(" ".join)


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(_NOISY, st.text(max_size=40)))
def test_exact_matching_on_the_lowered_line_masks_the_same(line: str) -> None:
    assert noise.mask(line) == _mask_case_insensitively(line)


_MAIL_LINES = st.lists(
    st.sampled_from(
        [
            "Lot A: 14283",
            "",
            "> Lot B: 15320",
            ">> -- Forwarded message --",
            "> ---------- Forwarded message ---------",
            "---------- Forwarded message ---------",
            "-----Original Message-----",
            "________________________________",
            "From: Dana Lee <dana@offstreet.example>",
            "*From:* Dana",
            "Sent: Tuesday, June 3, 2025 9:15 AM",
            "De : Dana",
            "Objet : SpotID",
            "On Tue, Jun 3, 2025 at 9:15 AM Dana Lee <dana@offstreet.example>",
            "wrote:",
            "Dana Lee wrote:",
            "DANA LEE WROTE:",
            "THANKS",
            "FROM: Dana",
            "ON Tue, Jun 3, 2025, Dana <dana@x.example> Wrote:",
            "> Dana wrote:",
            "As I wrote:",
            "Le mar. 3 juin 2025 à 11:02, Dana a écrit :",
            "Am 03.06.2025 um 11:02 schrieb Dana:",
            "Begin forwarded message:",
            "Début du message réexpédié :",
            "w dniu 3 czerwca Dana napisał:",
            "Thanks,",
            "Best regards, Jane",
            "Merci beaucoup",
            "Sent from my iPhone",
            "-- ",
            "--",
            "P.S. Lot C: 16001",
            "   ",
            "ſent from my phone",
            "İ wrote:",
        ]
    ),
    max_size=14,
).map("\n".join)


@settings(max_examples=400, deadline=None, database=None)
@given(_MAIL_LINES, st.booleans())
def test_the_quick_looks_change_no_split(text: str, forward: bool) -> None:
    """The quick looks over lines and texts only skip work: without them, the same cuts."""
    quick = quoting.split(text, forward=forward), quoting.cut_signature(text)
    originals = quoting._MAYBE_HISTORY, quoting._any_line
    try:  # every line looked at in full
        quoting._MAYBE_HISTORY = re.compile("")  # type: ignore[assignment]
        quoting._any_line = lambda _patterns, _text: True  # type: ignore[assignment]
        thorough = quoting.split(text, forward=forward), quoting.cut_signature(text)
    finally:
        quoting._MAYBE_HISTORY, quoting._any_line = originals
    assert quick == thorough


def _workbook(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_workbook_unpacking_past_its_bound_is_not_opened() -> None:
    data = _workbook([["Location", "SpotID"], ["Lot A", 14283]])
    assert read_xlsx(data, "lots.xlsx").pairs == [("Lot A", "14283")]
    refused = read_xlsx(data, "lots.xlsx", Limits(max_xlsx_unpacked_bytes=1_000))
    assert refused.pairs == [] and "unpacks to" in refused.warnings[0]
    refused = read_xlsx(data, "lots.xlsx", Limits(max_xlsx_bytes=100))
    assert refused.pairs == [] and "over the 100 read" in refused.warnings[0]


def test_sheet_rows_past_the_bound_are_a_warning() -> None:
    rows: list[list[object]] = [["Stationnement", "SpotID"]]
    rows += [[f"Place {n}", 100000 + n] for n in range(30)]
    found = read_xlsx(_workbook(rows), "liste.xlsx", Limits(max_sheet_rows=10))
    assert len(found.pairs) == 10
    assert found.warnings == [
        "attachment 'liste.xlsx' has more than 10 rows; only the first 10 were read: "
        "check the rest by hand"
    ]
