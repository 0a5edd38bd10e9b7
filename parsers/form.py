"""Read a SpotID request from the web form's JSON.

Expected shape: {"company": str, "contact_email": str,
                 "spots": [{"location": str, "spot_id": str | int}, ...]}.
SpotIDs are kept as written (stripped): the flow's validation step judges their format, so
a wrong one is refused with a reason rather than lost here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from parsers.extraction import Extraction
from parsers.models import NotASpotIDRequest, SpotIDRequest, UnreadableInput
from parsers.normalize import clean_str, normalize_location


def parse_form(payload: bytes | str | Mapping[str, Any]) -> SpotIDRequest:
    """Parse a form submission; ill-shaped input raises `UnreadableInput` naming the field."""
    data = _load(payload)
    company = _text(data, "company", "company")
    contact = _text(data, "contact_email", "contact_email").lower()
    if "@" not in contact:
        raise UnreadableInput(f"form field 'contact_email' is not an email address: {contact!r}")
    spots = data.get("spots")
    if not isinstance(spots, list):
        raise UnreadableInput(f"form field 'spots' must be a list, got {_type(spots)}")
    if not spots:
        raise NotASpotIDRequest("the form lists no spots")
    found = Extraction()
    for index, spot in enumerate(spots):
        field = f"spots[{index}]"
        if not isinstance(spot, Mapping):
            raise UnreadableInput(f"form field '{field}' must be an object, got {_type(spot)}")
        location = normalize_location(_text(spot, "location", f"{field}.location"))
        if not location:
            raise UnreadableInput(f"form field '{field}.location' is empty")
        found.add_pair(location, _spot_id(spot, f"{field}.spot_id"))
    return SpotIDRequest(
        source="form", company=company or None, sender=contact, spots=found.entries()
    )


def _load(payload: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(payload, Mapping):
        return payload
    if isinstance(payload, str):
        payload = payload.lstrip("\ufeff")
    try:
        data = json.loads(payload)
    except (ValueError, TypeError, RecursionError) as exc:
        raise UnreadableInput(f"form payload is not JSON: {exc}") from exc
    if not isinstance(data, Mapping):
        raise UnreadableInput(f"form payload must be a JSON object, got {_type(data)}")
    return data


def _text(data: Mapping[str, Any], key: str, field: str) -> str:
    value = data.get(key)
    if value is None:
        raise UnreadableInput(f"form field '{field}' is missing")
    if not isinstance(value, str):
        raise UnreadableInput(f"form field '{field}' must be a string, got {_type(value)}")
    return clean_str(value).strip()


def _spot_id(spot: Mapping[str, Any], field: str) -> str:
    value = spot.get("spot_id")
    if value is None:
        raise UnreadableInput(f"form field '{field}' is missing")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UnreadableInput(
            f"form field '{field}' must be a string or integer, got {_type(value)}"
        )
    try:
        text = clean_str(str(value)).strip()
    except ValueError as exc:  # an integer too long to print
        raise UnreadableInput(f"form field '{field}' is not a SpotID") from exc
    if not text:
        raise UnreadableInput(f"form field '{field}' is empty")
    return text


def _type(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def form_json(*, company: str, contact_email: str, spots: Sequence[tuple[str, str | int]]) -> bytes:
    """The pipeline's form JSON, canonical, so the same request is the same bytes."""
    body: dict[str, Any] = {
        "company": company,
        "contact_email": contact_email,
        "spots": [{"location": location, "spot_id": spot_id} for location, spot_id in spots],
    }
    return json.dumps(body, separators=(",", ":")).encode()
