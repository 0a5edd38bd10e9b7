"""The request every intake channel produces: what the customer asked for, nothing more."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SpotEntry(BaseModel):
    """One location the customer wants enforced, with the HotSpot SpotID they gave for it."""

    location: str = Field(min_length=1)
    # Kept as written (stripped): the flow's validation step judges the format, so a bad
    # SpotID is refused with a reason instead of vanishing at parse time.
    spot_id: str = Field(min_length=1)


class MethodResult(BaseModel):
    """One method's verdict in an Authentication-Results header: `dmarc=pass header.from=x`."""

    method: str
    result: str
    properties: dict[str, str] = Field(default_factory=dict)


class AuthenticationResults(BaseModel):
    """One Authentication-Results header: who wrote it (authserv-id) and what it found."""

    authserv_id: str
    results: list[MethodResult]


class SenderEvidence(BaseModel):
    """What the headers say about who sent a message; judged by `trust.who_may_ask`."""

    from_headers: int = Field(description="How many From headers the message has.")
    from_addresses: list[str] = Field(description="Every address in them, lower-cased.")
    from_defects: list[str] = Field(description="What the From parser found malformed.")
    authentication_results: list[AuthenticationResults]


class SpotIDRequest(BaseModel):
    """A SpotID configuration request, parsed from an email or a form submission."""

    source: Literal["email", "form"]
    sender: str | None = Field(default=None, description="The sender's address, lower-cased.")
    sender_name: str | None = None
    company: str | None = Field(default=None, description="Company named in a form.")
    subject: str | None = None
    message_id: str | None = None
    spots: list[SpotEntry]
    sender_evidence: SenderEvidence | None = Field(
        default=None, description="From and Authentication-Results, for emails."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Lines the parser could not read with certainty; they send it to review.",
    )
    kind: Literal["spot_ids", "status_question", "find_spot_ids"] = Field(
        default="spot_ids",
        description="`status_question`: no SpotIDs, the sender asks where its integration "
        "stands (answered automatically once the sender passed authentication); "
        "`find_spot_ids`: the sender does not know its SpotIDs (Offstreet proposes them).",
    )
    recipients: list[str] = Field(
        default_factory=list, description="The To and Cc addresses of an email, lower-cased."
    )
    locations: list[str] = Field(
        default_factory=list,
        description="For `find_spot_ids`: the locations the email lists (none: all); for "
        "`spot_ids`: those it names without a SpotID (Offstreet proposes theirs).",
    )
    language: Literal["en", "fr"] = Field(
        default="en", description="The language of a status question, for its answer."
    )


class NotASpotIDRequest(ValueError):
    """The input was read, but it is not a SpotID request or holds no SpotIDs."""


class UnreadableInput(ValueError):
    """The input could not be read at all (not an email, not JSON, wrong shape)."""
