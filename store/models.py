"""The store's tables: where every company, request, SpotID and test permit stands.

States are explicit columns, so a flow run can stop anywhere and the next run reads from
here where to continue. Secrets are stored encrypted (see `store.secrets`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def created_now() -> datetime:
    """A timestamp column that defaults to the moment the row is made."""
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def timestamp(*, nullable: bool = False) -> datetime | None:
    """A timestamp column set by the code that changes the row."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def state_column(enum: type[StrEnum], default: StrEnum) -> StrEnum:
    """An enum stored as its text (no database-native enum type to migrate)."""
    return Field(default=default, sa_type=sa.Enum(enum, native_enum=False, length=20))


class RequestSource(StrEnum):
    email = "email"
    form = "form"


class RequestState(StrEnum):
    """Where a request stands. Terminal: live, rejected. Waiting on a person: held (the
    sender may not ask for this company), needs_review (the parser was unsure),
    waiting_on_ops (a token is needed). `failed` can be retried."""

    received = "received"
    held = "held"
    needs_review = "needs_review"
    validated = "validated"
    mapped = "mapped"
    test_issued = "test_issued"
    verified = "verified"
    live = "live"
    rejected = "rejected"
    waiting_on_ops = "waiting_on_ops"
    failed = "failed"
    # Not a request: a contact asked where its integration stands, and was answered.
    status_question = "status_question"
    # Not a request yet: the sender does not know its SpotIDs; Offstreet proposed some and
    # waits for the sender (or ops) to confirm them, which makes a new request.
    finding_spot_ids = "finding_spot_ids"


# Held until a person lets the request run (the sender may not ask, the parser was unsure).
WAITING_FOR_A_PERSON = (RequestState.held, RequestState.needs_review)


class SpotVerdict(StrEnum):
    """What validation decided for one SpotID of a request."""

    pending = "pending"
    accepted = "accepted"
    already_live = "already_live"
    rejected = "rejected"
    # Not refused yet: the company has no location of that name, ops may pick one.
    unknown_location = "unknown_location"
    # Not refused yet: HotSpot names an operator the company has not on file; ops confirm it.
    operator_unconfirmed = "operator_unconfirmed"
    # Finding SpotIDs: a SpotID proposed for the location by name (or "" when no guess).
    proposed = "proposed"


class MappingState(StrEnum):
    mapped = "mapped"
    test_issued = "test_issued"
    verified = "verified"
    live = "live"
    waiting_on_ops = "waiting_on_ops"
    failed = "failed"


# A mapping whose TEST123 has not been seen yet: the only states a permit's answer may move.
NOT_YET_VERIFIED = (
    MappingState.mapped,
    MappingState.test_issued,
    MappingState.waiting_on_ops,
    MappingState.failed,
)


class IntegrationState(StrEnum):
    pending = "pending"
    live = "live"


class PermitState(StrEnum):
    """A test permit: `pending` is written before the POST, so a lost response is retried
    with the same external_id instead of creating a second permit; `refused` when HotSpot
    turned the POST down for good."""

    pending = "pending"
    issued = "issued"
    visible = "visible"
    revoked = "revoked"
    refused = "refused"


ACTIVE_PERMIT_STATES = (PermitState.pending, PermitState.issued, PermitState.visible)


class StoreIdentity(SQLModel, table=True):
    """One row: this store's id, made when it was created. Names the pipeline gives things
    in shared systems (Prefect artifact keys) carry it, so two stores never collide there."""

    id: str = Field(primary_key=True, max_length=32)


class Company(SQLModel, table=True):
    """A customer; its contacts and domains decide who may ask for an onboarding."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    contacts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    domains: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The HotSpot operators whose spots the company may map (HotSpot's `operator` field, as
    # HotSpot writes it; compared case-insensitively). A spot of any other operator waits on ops.
    hotspot_operators: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # Fernet ciphertext of the company's HotSpot token; never the token itself.
    hotspot_token_encrypted: str | None = None
    created_at: datetime = created_now()

    def speaks_for_it(self, address: str | None) -> bool:
        """Whether the address is a registered contact of the company, or at one of its
        domains: who may ask for its onboardings."""
        address = (address or "").strip().lower()
        domain = address.rpartition("@")[2]
        return bool(address) and (address in self.contacts or (domain in self.domains))


class Location(SQLModel, table=True):
    """One of a company's parking locations in Offstreet."""

    __table_args__ = (sa.UniqueConstraint("company_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    name: str


class Integration(SQLModel, table=True):
    """A company's HotSpot integration: one per company, never two."""

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", unique=True)
    state: IntegrationState = state_column(IntegrationState, IntegrationState.pending)
    created_at: datetime = created_now()
    live_at: datetime | None = timestamp(nullable=True)


class OnboardingRequest(SQLModel, table=True):
    """One request as received: the raw input is kept, whatever became of it."""

    id: int | None = Field(default=None, primary_key=True)
    # Message-ID for emails, a digest of the raw input otherwise: the same input twice is
    # the same request.
    key: str = Field(unique=True, index=True)
    source: RequestSource = Field(sa_type=sa.Enum(RequestSource, native_enum=False, length=20))
    sender: str | None = None
    subject: str | None = None
    raw: bytes = Field(sa_column=Column(sa.LargeBinary, nullable=False))
    parsed: dict | None = Field(default=None, sa_column=Column(JSON))
    company_id: int | None = Field(default=None, foreign_key="company.id", index=True)
    state: RequestState = state_column(RequestState, RequestState.received)
    reason: str | None = None
    # Where replies may go, decided at intake (`trust.who_may_ask`): None when the sender is
    # not proven, so nothing is ever sent to a forged address.
    reply_to: str | None = None
    # What ops should know about how the sender was judged (e.g. headers ignored).
    trust_notes: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # The onboarding flow run started for it, so no second one is ever started.
    flow_run_id: str | None = None
    # Questions ops answered for it in the UI; each new question gets a new key.
    questions_answered: int = 0
    # The one run working on it now (a lease: taken by compare-and-set, renewed while the run
    # is alive, released when it ends or waits); a run whose lease lapsed was interrupted.
    lease_owner: str | None = None
    lease_expires_at: datetime | None = timestamp(nullable=True)
    run_last_seen_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = created_now()
    updated_at: datetime = created_now()

    @property
    def interrupted(self) -> bool:
        """Its run died at work: it held the lease and stopped renewing it."""
        return self.lease_expires_at is not None and self.lease_expires_at < utcnow()


class Disposition(StrEnum):
    """What intake made of an inbound email; each files the message in its own folder."""

    onboarding = "onboarding"
    duplicate = "duplicate"
    held = "held"
    needs_review = "needs_review"
    rejected = "rejected"
    answered = "answered"  # a status question, answered automatically


class InboundMessage(SQLModel, table=True):
    """One message seen in the mailbox, by (UIDVALIDITY, UID): stored before it is moved, so a
    crash at any point neither loses it nor onboards it twice."""

    __table_args__ = (sa.UniqueConstraint("mailbox", "uidvalidity", "uid"),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str
    uidvalidity: int = Field(sa_type=sa.BigInteger)
    uid: int = Field(sa_type=sa.BigInteger)
    request_id: int = Field(foreign_key="onboardingrequest.id", index=True)
    disposition: Disposition = state_column(Disposition, Disposition.onboarding)
    filed_to: str | None = None
    received_at: datetime = created_now()
    filed_at: datetime | None = timestamp(nullable=True)


class Reply(SQLModel, table=True):
    """A reply to a requester, claimed before it is sent: one of each kind per request."""

    __table_args__ = (sa.UniqueConstraint("request_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="onboardingrequest.id", index=True)
    kind: str
    recipient: str
    claimed_at: datetime = created_now()
    sent_at: datetime | None = timestamp(nullable=True)


class RequestSpot(SQLModel, table=True):
    """One (location, SpotID) line of a request and validation's verdict on it."""

    __table_args__ = (sa.UniqueConstraint("request_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="onboardingrequest.id", index=True)
    position: int
    location: str
    spot_id: str
    verdict: SpotVerdict = state_column(SpotVerdict, SpotVerdict.pending)
    # Why, for ops (may name other companies and commands), and in the customer's words.
    reason: str | None = None
    customer_reason: str | None = None
    # The spot's operator as HotSpot named it at validation (for ops' operator question).
    hotspot_operator: str | None = None


class SpotMapping(SQLModel, table=True):
    """A company location mapped to one HotSpot SpotID (each side at most once)."""

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    integration_id: int = Field(foreign_key="integration.id", index=True)
    location_id: int = Field(foreign_key="location.id", unique=True)
    spot_id: str = Field(unique=True)
    request_id: int = Field(foreign_key="onboardingrequest.id", index=True)
    state: MappingState = state_column(MappingState, MappingState.mapped)
    reason: str | None = None
    created_at: datetime = created_now()
    updated_at: datetime = created_now()

    @property
    def is_live(self) -> bool:
        return self.state == MappingState.live


class TestPermit(SQLModel, table=True):
    """A TEST123 permit pushed to HotSpot to prove a mapping works."""

    __test__ = False  # not a pytest test class, despite the name
    __table_args__ = (
        # Never two active test permits at one mapping, enforced by the database itself.
        sa.Index(
            "uq_testpermit_one_active_per_mapping",
            "mapping_id",
            unique=True,
            sqlite_where=sa.text("state IN ('pending', 'issued', 'visible')"),
            postgresql_where=sa.text("state IN ('pending', 'issued', 'visible')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    mapping_id: int = Field(foreign_key="spotmapping.id", index=True)
    spot_id: str
    external_id: str = Field(unique=True)
    hotspot_permit_id: str | None = None
    with_company_token: bool = False
    state: PermitState = state_column(PermitState, PermitState.pending)
    start_time: datetime = timestamp()
    end_time: datetime = timestamp()
    created_at: datetime = created_now()
    visible_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)


class LinkPurpose(StrEnum):
    """What a signed link opens: a company's form, or the page asking for its HotSpot token."""

    form = "form"
    token = "token"
    proposal = "proposal"


class IssuedLink(SQLModel, table=True):
    """A signed link Offstreet made, so that one can be revoked before it expires.

    Only a digest of the link's token is kept: the store never holds a link that works. A
    link revoked without having been recorded (made elsewhere) gets its row then.
    Token links (`purpose` token) are single-use and belong to one waiting request: `used_at`
    once the token was taken, `reminded_at` / `expiry_noticed_at` for the follow-ups.
    """

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    token_digest: str = Field(unique=True)
    expires_at: datetime = timestamp()
    issued_at: datetime = created_now()
    revoked_at: datetime | None = timestamp(nullable=True)
    purpose: LinkPurpose = Field(
        default=LinkPurpose.form,
        sa_column=Column(
            sa.Enum(LinkPurpose, native_enum=False, length=10),
            nullable=False,
            server_default="form",
        ),
    )
    request_id: int | None = Field(default=None, index=True)
    recipient: str | None = None
    used_at: datetime | None = timestamp(nullable=True)
    reminded_at: datetime | None = timestamp(nullable=True)
    expiry_noticed_at: datetime | None = timestamp(nullable=True)
