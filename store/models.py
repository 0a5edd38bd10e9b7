"""The store's tables: where every company, request, SpotID and test permit stands.

States are explicit columns, so a flow run can stop anywhere and the next run reads from
here where to continue. Secrets are stored encrypted (see `store.secrets`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeVar, overload

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Row(Protocol):
    id: int | None


def stored_id(row: _Row) -> int:
    """The key of a row the database has numbered (read back, or added and flushed)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: add and flush it first")
    return row.id


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


# Each column helper is typed as the value its column holds, as sqlmodel's own Field is.
_State = TypeVar("_State", bound=StrEnum)


def created_now() -> datetime:
    """A timestamp column that defaults to the moment the row is made."""
    column: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    return column


@overload
def timestamp(*, nullable: Literal[False] = False) -> datetime: ...
@overload
def timestamp(*, nullable: Literal[True]) -> datetime | None: ...
def timestamp(*, nullable: bool = False) -> datetime | None:
    """A timestamp column set by the code that changes the row."""
    column: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=nullable)
    )
    return column


def state_column(enum: type[_State], default: _State) -> _State:
    """An enum stored as its text (no database-native enum type to migrate)."""
    column: _State = Field(default=default, sa_type=sa.Enum(enum, native_enum=False, length=20))
    return column


class Phase(StrEnum):
    """How far along a request, a SpotID or an integration is, whatever its own state: the
    one classification every view, question, reply and exit code reads."""

    at_work = "at_work"  # a run moves it on by itself
    waiting = "waiting"  # a person must answer (ops, or the customer through ops)
    failed = "failed"  # stopped short; `retry` continues it
    done = "done"  # final: live
    refused = "refused"  # final: nothing applied

    @property
    def is_final(self) -> bool:
        return self in (Phase.done, Phase.refused)


class State(StrEnum):
    """A state of the store's: its `phase` (what it means) and its `label` (how ops read it)."""

    @property
    def phase(self) -> Phase:
        raise NotImplementedError

    @property
    def label(self) -> str:
        return STATE_LABELS.get(self.value, self.value.replace("_", " "))


# How reports and questions name states (the same word for a value in every state enum).
STATE_LABELS = {
    "pending": "received",
    "accepted": "valid",
    "test_issued": "TEST123 issued",
    "verified": "seen in HotSpot",
    "already_live": "already live (skipped)",
    "unknown_location": "location unknown (ops pick one)",
    "operator_unconfirmed": "operator to confirm (ops)",
    "held": "held for approval",
    "rejected": "refused",
    "status_question": "status question (answered)",
    "finding_spot_ids": "finding SpotIDs (proposals sent)",
    "proposed": "proposed (to confirm)",
    "degraded": "degraded (health check)",
}


class RequestSource(StrEnum):
    email = "email"
    form = "form"


class RequestState(State):
    """Where a request stands; its `phase` says what that means (see `REQUEST_PHASES`)."""

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

    @property
    def phase(self) -> Phase:
        return REQUEST_PHASES[self]

    @property
    def waits_on_a_person(self) -> bool:
        return self.phase == Phase.waiting

    @property
    def awaits_approval(self) -> bool:
        """Held before validation: it runs only once a person lets it (the sender may not
        ask for this company, or the parser was unsure)."""
        return self in (RequestState.held, RequestState.needs_review)


REQUEST_PHASES = {
    RequestState.received: Phase.at_work,
    RequestState.validated: Phase.at_work,
    RequestState.mapped: Phase.at_work,
    RequestState.test_issued: Phase.at_work,
    RequestState.verified: Phase.at_work,
    RequestState.held: Phase.waiting,
    RequestState.needs_review: Phase.waiting,
    RequestState.waiting_on_ops: Phase.waiting,  # a token, a location or an operator
    RequestState.failed: Phase.failed,
    RequestState.live: Phase.done,
    RequestState.rejected: Phase.refused,
    # Not onboardings: a question answered; SpotIDs proposed (a confirmation makes a new
    # request, which onboards).
    RequestState.status_question: Phase.done,
    RequestState.finding_spot_ids: Phase.done,
}
AWAITING_APPROVAL = tuple(state for state in RequestState if state.awaits_approval)
WAITING_ON_A_PERSON = tuple(state for state in RequestState if state.waits_on_a_person)


class Refuser(StrEnum):
    """Who refused a request: ops' refusal is final, a check's may be retried."""

    intake = "intake"  # not a SpotID request
    validation = "validation"
    mapping = "mapping"  # another request claimed a SpotID or location first
    ops = "ops"


class Confirmer(StrEnum):
    """Who confirmed the SpotIDs Offstreet proposed: the first to confirm wins."""

    customer = "customer"  # on the proposals page its single-use link opens
    ops = "ops"  # with `hotspot-onboard confirm`


class RefusalCode(StrEnum):
    """Why validation did not accept a SpotID as is (the texts for ops and the customer are
    written from it; rules read the code, never the text)."""

    not_a_spot_id = "not_a_spot_id"
    spot_id_repeated = "spot_id_repeated"
    location_repeated = "location_repeated"
    location_has_another_spot = "location_has_another_spot"
    spot_on_another_location = "spot_on_another_location"
    spot_in_another_request = "spot_in_another_request"
    unknown_to_hotspot = "unknown_to_hotspot"
    spot_of_another_company = "spot_of_another_company"
    inactive_in_hotspot = "inactive_in_hotspot"
    unknown_location = "unknown_location"
    operator_unconfirmed = "operator_unconfirmed"
    claimed_meanwhile = "claimed_meanwhile"


class SpotVerdict(State):
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

    @property
    def phase(self) -> Phase:
        return VERDICT_PHASES[self]


VERDICT_PHASES = {
    SpotVerdict.pending: Phase.at_work,
    SpotVerdict.accepted: Phase.at_work,
    SpotVerdict.already_live: Phase.done,
    SpotVerdict.rejected: Phase.refused,
    SpotVerdict.unknown_location: Phase.waiting,
    SpotVerdict.operator_unconfirmed: Phase.waiting,
    SpotVerdict.proposed: Phase.waiting,  # the customer (or ops) confirms it
}


class MappingState(State):
    mapped = "mapped"
    test_issued = "test_issued"
    verified = "verified"
    live = "live"
    waiting_on_ops = "waiting_on_ops"
    failed = "failed"
    # Was live; the scheduled health check found it broken (why: `SpotMapping.problem`). A
    # later passing check makes it live again.
    degraded = "degraded"

    @property
    def phase(self) -> Phase:
        return MAPPING_PHASES[self]


MAPPING_PHASES = {
    MappingState.mapped: Phase.at_work,
    MappingState.test_issued: Phase.at_work,
    MappingState.verified: Phase.at_work,
    MappingState.live: Phase.done,
    MappingState.waiting_on_ops: Phase.waiting,
    MappingState.failed: Phase.failed,
    MappingState.degraded: Phase.waiting,  # ops (or the customer's new token) restore it
}

# The mappings the health check looks at: live ones, and degraded ones (to see them recover).
HEALTH_CHECKED = (MappingState.live, MappingState.degraded)


class HealthProblem(StrEnum):
    """Why the health check calls a live mapping degraded (rules read the code, people the
    text next to it)."""

    spot_not_found = "spot_not_found"
    spot_inactive = "spot_inactive"
    operator_changed = "operator_changed"
    token_refused = "token_refused"
    canary_not_visible = "canary_not_visible"


# A mapping whose TEST123 has not been seen yet: the only states a permit's answer may move.
NOT_YET_VERIFIED = (
    MappingState.mapped,
    MappingState.test_issued,
    MappingState.waiting_on_ops,
    MappingState.failed,
)


class IntegrationState(State):
    pending = "pending"
    live = "live"

    @property
    def phase(self) -> Phase:
        return Phase.done if self == IntegrationState.live else Phase.at_work


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
    parsed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    company_id: int | None = Field(default=None, foreign_key="company.id", index=True)
    state: RequestState = state_column(RequestState, RequestState.received)
    reason: str | None = None
    # Who refused it (set with state `rejected` only): ops' refusal is never run again.
    refused_by: Refuser | None = Field(
        default=None, sa_type=sa.Enum(Refuser, native_enum=False, length=20)
    )
    # Who confirmed its proposed SpotIDs, and the request they became: both set in the
    # transaction that stores that request, by compare-and-set, so only the first counts.
    confirmed_by: Confirmer | None = Field(
        default=None, sa_type=sa.Enum(Confirmer, native_enum=False, length=20)
    )
    confirmed_as: int | None = Field(default=None, foreign_key="onboardingrequest.id")
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
    # Why, as data (rules read it), for ops (may name other companies), and in the
    # customer's words.
    reason_code: RefusalCode | None = Field(
        default=None, sa_type=sa.Enum(RefusalCode, native_enum=False, length=32)
    )
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
    # Set with state `degraded` only: what the health check found broken.
    problem: HealthProblem | None = Field(
        default=None, sa_type=sa.Enum(HealthProblem, native_enum=False, length=32)
    )
    created_at: datetime = created_now()
    updated_at: datetime = created_now()

    @property
    def is_live(self) -> bool:
        """It went live: live, or degraded since (the health check looks after it then)."""
        return self.state in HEALTH_CHECKED


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
    # The plate pushed: None is TEST_PERMIT_PLATE (onboarding); the health check's canary
    # names its own (HEALTH_PLATE), so a replay repeats the identical body.
    plate: str | None = None
    state: PermitState = state_column(PermitState, PermitState.pending)
    start_time: datetime = timestamp()
    end_time: datetime = timestamp()
    created_at: datetime = created_now()
    # When HotSpot accepted it, and when a status poll first found it propagated: what
    # verification learns HotSpot's usual propagation delay from.
    issued_at: datetime | None = timestamp(nullable=True)
    propagated_at: datetime | None = Field(  # indexed: the latest are read before each verify
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
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


class HealthCheck(SQLModel, table=True):
    """One health check of one mapping: kept for good, so a degraded mapping's history is never
    lost. `new_problem` marks the check that first found a problem (live before, or another
    problem): the one ops, and for a token the company's contact, are told about, once."""

    id: int | None = Field(default=None, primary_key=True)
    mapping_id: int = Field(foreign_key="spotmapping.id", index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    spot_id: str
    checked_at: datetime = created_now()
    problem: HealthProblem | None = Field(
        default=None, sa_type=sa.Enum(HealthProblem, native_enum=False, length=32)
    )
    detail: str | None = None
    # The canary permit pushed by this check, if it got that far.
    permit_id: int | None = Field(default=None, foreign_key="testpermit.id")
    new_problem: bool = False
    ops_notified_at: datetime | None = timestamp(nullable=True)
    contact_notified_at: datetime | None = timestamp(nullable=True)


class HotSpotPace(SQLModel, table=True):
    """The next free moment to call HotSpot with one partner key, for every process and worker
    sharing the store: a caller takes its slot and moves this on by one interval in one UPDATE,
    so calls go out evenly spaced at the partner key's rate however many runs want them.
    `key` is a hash of (base URL, partner key), never the key itself; times are Unix seconds."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    next_at: float = 0.0
