"""Sandbox permits: validating a `POST /v1/permits` body and tracking a permit's life."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotspot.models import PermitStatus

PLATE = re.compile(r"[A-Z0-9]{2,10}")
SPOT_ID = re.compile(r"[0-9]{3,8}")
REGION = re.compile(r"[A-Z]{2}")
FIELDS = ("external_id", "spot_id", "plate", "province", "country", "start_time", "end_time")


class SandboxError(Exception):
    """A documented HotSpot error; the app answers it as `{"error": code, "message": text}`."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


def _invalid(message: str) -> SandboxError:
    return SandboxError(400, "invalid_request", message)


def plate_of(raw: object) -> str:
    """The plate upper-cased with spaces and dashes removed; a 400 unless 2–10 alnum remain."""
    plate = re.sub(r"[\s-]", "", raw).upper() if isinstance(raw, str) else ""
    if not PLATE.fullmatch(plate):
        raise _invalid("plate must be 2 to 10 letters and digits (spaces and dashes ignored)")
    return plate


def spot_id_of(raw: object) -> str:
    """The SpotID as given; a 400 unless it is 3 to 8 digits."""
    if not isinstance(raw, str) or not SPOT_ID.fullmatch(raw):
        raise _invalid("spot_id must be a string of 3 to 8 digits")
    return raw


def _region_of(field: str, raw: object) -> str:
    """A two-letter province/state or country code, upper-cased."""
    code = raw.upper() if isinstance(raw, str) else ""
    if not REGION.fullmatch(code):
        raise _invalid(f"{field} must be a two-letter code")
    return code


def _time_of(field: str, raw: object) -> datetime:
    """An ISO 8601 time that carries its UTC offset."""
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise _invalid(f"{field} must be an ISO 8601 time with a UTC offset")
    return value


@dataclass(frozen=True)
class NewPermit:
    """A validated permit body; two bodies are "the same" when these normalised fields are."""

    external_id: str
    spot_id: str
    plate: str
    province: str
    country: str
    start_time: datetime
    end_time: datetime


def parse_permit(body: Any) -> NewPermit:
    """Validate a `POST /v1/permits` body, or raise a 400 naming the first bad field."""
    if not isinstance(body, dict):
        raise _invalid("the body must be a JSON object")
    if missing := [field for field in FIELDS if field not in body]:
        raise _invalid(f"missing fields: {', '.join(missing)}")
    external_id = body["external_id"]
    if not isinstance(external_id, str) or not 1 <= len(external_id) <= 200:
        raise _invalid("external_id must be a string of 1 to 200 characters")
    permit = NewPermit(
        external_id=external_id,
        spot_id=spot_id_of(body["spot_id"]),
        plate=plate_of(body["plate"]),
        province=_region_of("province", body["province"]),
        country=_region_of("country", body["country"]),
        start_time=_time_of("start_time", body["start_time"]),
        end_time=_time_of("end_time", body["end_time"]),
    )
    if permit.end_time <= permit.start_time:
        raise _invalid("end_time must be after start_time")
    return permit


@dataclass
class PermitRecord:
    """A stored permit. `visible_at` is None when enforcement will never see it."""

    request: NewPermit
    permit_id: str
    created_at: datetime
    propagated_at: datetime
    visible_at: datetime | None
    with_accepted_token: bool
    revoked_at: datetime | None = None

    def status(self, now: datetime) -> PermitStatus:
        """accepted until propagated, then active; revoked or expired win over both."""
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.request.end_time:
            return "expired"
        return "active" if now >= self.propagated_at else "accepted"

    def visible(self, now: datetime) -> bool:
        """Whether enforcement lookups show this permit yet."""
        return self.visible_at is not None and now >= self.visible_at

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The permit as the /v1 API shows it."""
        request = self.request
        return {
            "permit_id": self.permit_id,
            "external_id": request.external_id,
            "spot_id": request.spot_id,
            "plate": request.plate,
            "province": request.province,
            "country": request.country,
            "start_time": request.start_time.isoformat(),
            "end_time": request.end_time.isoformat(),
            "status": self.status(now),
            "created_at": self.created_at.isoformat(),
        }

    def to_state(self, now: datetime) -> dict[str, Any]:
        """The permit as the control API shows it, with what only the sandbox knows."""
        visible_at = self.visible_at.isoformat() if self.visible_at else None
        return {
            "permit_id": self.permit_id,
            "external_id": self.request.external_id,
            "spot_id": self.request.spot_id,
            "plate": self.request.plate,
            "status": self.status(now),
            "created_at": self.created_at.isoformat(),
            "visible_at": visible_at,
            "with_accepted_token": self.with_accepted_token,
        }
