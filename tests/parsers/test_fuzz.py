"""Whatever arrives, the parsers answer with a request or one of their two refusals."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import NotASpotIDRequest, SpotIDRequest, UnreadableInput, parse_any, parse_form

SAMPLES = sorted((Path(__file__).parent / "corpus").glob("*/*.eml"))
FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _answers(raw: bytes | str) -> SpotIDRequest | None:
    """parse_any's result, or None for a documented refusal; anything else fails the test."""
    try:
        request = parse_any(raw)
    except (NotASpotIDRequest, UnreadableInput):
        return None
    # A request has SpotIDs or says why not; a status question or a request to find the
    # SpotIDs has none by design.
    assert request.spots or request.warnings or request.kind != "spot_ids"
    if request.source == "email":
        assert all(re.fullmatch(r"\d{3,8}", spot.spot_id) for spot in request.spots)
    assert all(spot.location.strip() == spot.location for spot in request.spots)
    request.model_dump_json()  # storable: no lone surrogates or other unserialisable text
    return request


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(raw: bytes) -> None:
    _answers(raw)


@FUZZ
@given(st.text(max_size=2000))
def test_arbitrary_text(raw: str) -> None:
    _answers(raw)


@st.composite
def _mutated_sample(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)).read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 40)))
        action = draw(st.sampled_from(["replace", "delete", "insert", "duplicate", "truncate"]))
        if action == "replace":
            data[start:end] = draw(st.binary(max_size=40))
        elif action == "delete":
            del data[start:end]
        elif action == "insert":
            text = draw(st.sampled_from([b"\n", b">", b"--", b"SpotID ", b"=", b":", b"\xff"]))
            data[start:start] = text + draw(st.binary(max_size=10))
        elif action == "duplicate":
            data[start:start] = data[start:end] * draw(st.integers(1, 5))
        else:
            del data[end:]
    return bytes(data)


@FUZZ
@given(_mutated_sample())
def test_mutated_samples(raw: bytes) -> None:
    _answers(raw)


_WORDS = st.sampled_from(
    [
        "Lot",
        "A",
        "Garage",
        "SpotID",
        "spot id",
        "#",
        ":",
        "-",
        "\u2013",
        "=",
        "(",
        ")",
        "|",
        "\t",
        "  ",
        "\n",
        ">",
        "On",
        "wrote:",
        "From:",
        "Sent:",
        "--",
        "Thanks,",
        "and",
        "or",
        "14283",
        "15320",
        "12",
        "123456789",
        "2025",
        "312-555-0100",
        "IL",
        "60601",
        "Caf\u00e9",
        "\u00a0",
        "Location",
        "Invoice",
        "#12345",
        "14,283",
        "14283/15320",
        "<b>",
        "</li>",
    ]
)


@FUZZ
@given(st.lists(_WORDS, max_size=60), st.sampled_from(["plain", "html"]))
def test_mail_shaped_bodies(words: list[str], subtype: str) -> None:
    body = " ".join(words)
    head = f"From: a@b.example\nSubject: SpotIDs\nContent-Type: text/{subtype}; charset=utf-8"
    raw = f"{head}\n\n{body}".encode()
    _answers(raw)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
_SPOT = st.fixed_dictionaries({"location": _JSON | st.text(max_size=30), "spot_id": _JSON})


@FUZZ
@given(
    st.fixed_dictionaries(
        {"company": _JSON, "contact_email": _JSON | st.emails(), "spots": st.lists(_SPOT) | _JSON}
    )
    | st.dictionaries(st.text(max_size=12), _JSON, max_size=5)
)
def test_arbitrary_forms(form: dict[str, object]) -> None:
    try:
        request = parse_form(form)
    except (NotASpotIDRequest, UnreadableInput):
        return
    assert request.spots and request.sender and "@" in request.sender
