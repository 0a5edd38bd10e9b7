"""Plain models the store takes in and gives out, so callers never hold live ORM rows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from store.models import (
    HealthProblem,
    IntegrationState,
    MappingState,
    RefusalCode,
    RequestState,
    SpotVerdict,
)


class CompanyIn(BaseModel):
    """A company as ops describe it in a seed file."""

    # A refused seed file is reported without its values: they may hold a company token.
    model_config = ConfigDict(hide_input_in_errors=True)

    name: str = Field(min_length=1)
    contacts: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    hotspot_operators: list[str] = Field(
        default_factory=list, description="HotSpot operators whose spots the company may map."
    )
    hotspot_token: SecretStr | None = None


class SeedFile(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    companies: list[CompanyIn]


class SpotStatus(BaseModel):
    """One SpotID of a request, as ops and customers see it."""

    location: str
    spot_id: str
    status: SpotVerdict | MappingState = Field(
        description="Validation's verdict until the SpotID is mapped, then the mapping's state."
    )
    code: RefusalCode | None = Field(default=None, description="Why, as data.")
    reason: str | None = Field(default=None, description="Why, for ops.")
    customer_reason: str | None = Field(default=None, description="Why, for the customer.")


class RequestOutcome(BaseModel):
    """Where a request stands; what the CLI, the UI and replies report."""

    request_id: int
    company: str | None
    state: RequestState
    reason: str | None
    spots: list[SpotStatus]
    run_last_seen_at: datetime | None = Field(
        default=None, description="When its run last said it was alive."
    )
    interrupted: bool = Field(
        default=False, description="Its run died at work; `retry` takes it over."
    )

    @property
    def waits_on_a_person(self) -> bool:
        """Ops must answer something (held, unsure, a token, a location, an operator)."""
        return self.state.waits_on_a_person

    @property
    def headline(self) -> str:
        counts: dict[str, int] = {}
        for spot in self.spots:
            counts[spot.status] = counts.get(spot.status, 0) + 1
        tally = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no SpotIDs"
        who = self.company or "unknown company"
        text = f"Request {self.request_id} ({who}): {self.state} ({tally})"
        return f"{text}. {self.reason}" if self.reason else text


class MappingStatus(BaseModel):
    location: str
    spot_id: str
    status: MappingState
    reason: str | None = None
    problem: HealthProblem | None = Field(
        default=None, description="Why the health check calls it degraded, as data."
    )
    checked_at: datetime | None = Field(default=None, description="Its last health check.")


class IntegrationStatus(BaseModel):
    company: str
    status: IntegrationState
    hotspot_operators: list[str] = Field(default_factory=list)
    mappings: list[MappingStatus]


class StatusReport(BaseModel):
    """`hotspot-onboard status`: every integration and every request."""

    integrations: list[IntegrationStatus]
    requests: list[RequestOutcome]


class LocationStanding(BaseModel):
    """Where one of a company's locations stands with HotSpot, for a status answer."""

    location: str
    spot_id: str | None = None
    # live | testing | waiting_on_you (the company's token) | waiting_on_offstreet |
    # not_requested
    standing: str


class CompanyStanding(BaseModel):
    """A company's integration as its contact may read it: no ops' notes, no other company."""

    company: str
    integration: str | None = Field(description="pending or live; None: none yet")
    locations: list[LocationStanding]
    token_link_open: bool = False
