"""HotSpot's resources as the client returns them; unknown fields are ignored, not refused."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_serializer

PermitStatus = Literal["accepted", "active", "revoked", "expired"]


class _HotSpotModel(BaseModel):
    """Tolerates fields HotSpot adds later, so a new field never breaks a run."""

    model_config = ConfigDict(extra="ignore")


class Spot(_HotSpotModel):
    """A parking spot (a HotSpot SpotID) and whether permits there need a company token."""

    spot_id: str
    name: str
    operator: str
    timezone: str
    active: bool
    requires_company_token: bool


class PermitRequest(_HotSpotModel):
    """The body of `POST /v1/permits`; `external_id` is the idempotency key, so keep it stable."""

    external_id: str
    spot_id: str
    plate: str
    province: str
    country: str
    start_time: AwareDatetime
    end_time: AwareDatetime

    @field_serializer("start_time", "end_time")
    def _iso_with_offset(self, value: datetime) -> str:
        """Always `+HH:MM`, never `Z`, as the contract's examples show."""
        return value.isoformat()


class Permit(_HotSpotModel):
    """A permit as HotSpot holds it; `status` moves accepted → active → revoked or expired."""

    permit_id: str
    external_id: str
    spot_id: str
    plate: str
    status: PermitStatus
    start_time: datetime
    end_time: datetime
    province: str | None = None
    country: str | None = None
    created_at: datetime | None = None


class Lookup(_HotSpotModel):
    """What an enforcement officer's device sees for a plate at a spot."""

    plate: str
    spot_id: str
    valid: bool
    end_time: datetime | None = None
    permits: list[Permit] = []

    def shows(self, permit_id: str | None) -> bool:
        """Whether enforcement sees that permit as valid here."""
        return self.valid and any(p.permit_id == permit_id for p in self.permits)
