"""Every read and write of the store. Only this module (and migrations) know SQL.

Functions take a session and keyword-only arguments; the caller owns the transaction
(`store.db.session_scope`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from store import secrets
from store.models import (
    ACTIVE_PERMIT_STATES,
    Company,
    InboundMessage,
    Integration,
    IntegrationState,
    IssuedLink,
    LinkPurpose,
    Location,
    MappingState,
    OnboardingRequest,
    PermitState,
    Reply,
    RequestSource,
    RequestSpot,
    RequestState,
    SpotMapping,
    SpotVerdict,
    StoreIdentity,
    TestPermit,
    utcnow,
)
from store.schemas import (
    CompanyIn,
    CompanyStanding,
    IntegrationStatus,
    LocationStanding,
    MappingStatus,
    RequestOutcome,
    SpotStatus,
    StatusReport,
)
from trust.ownership import operates


def normalise_location(name: str) -> str:
    """The form location names are compared in: case and spacing never matter."""
    return re.sub(r"\s+", " ", name).strip().casefold()


# --- the store itself -------------------------------------------------------------------


def store_id(session: Session) -> str:
    """This store's identity (made by its first migration run)."""
    identity = session.exec(select(StoreIdentity)).first()
    assert identity is not None, "migrations create the store's identity"
    return identity.id


# --- companies ---------------------------------------------------------------------------


def upsert_company(session: Session, *, company_in: CompanyIn) -> Company:
    """Create or update a company; locations are added, never removed."""
    company = get_company_by_name(session, name=company_in.name)
    if company is None:
        company = Company(name=company_in.name)
    company.contacts = sorted({address.lower() for address in company_in.contacts})
    company.domains = sorted({domain.lower().lstrip("@") for domain in company_in.domains})
    for operator in company_in.hotspot_operators:
        add_hotspot_operator(session, company=company, operator=operator)
    if company_in.hotspot_token is not None:
        company.hotspot_token_encrypted = secrets.encrypt(
            company_in.hotspot_token.get_secret_value()
        )
    session.add(company)
    session.flush()
    known = {normalise_location(loc.name) for loc in company_locations(session, company=company)}
    for name in company_in.locations:
        if normalise_location(name) not in known:
            session.add(Location(company_id=company.id, name=name.strip()))
            known.add(normalise_location(name))
    session.flush()
    return company


def get_company_by_name(session: Session, *, name: str) -> Company | None:
    return session.exec(
        select(Company).where(sa.func.lower(Company.name) == name.strip().lower())
    ).first()


def get_company(session: Session, *, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise LookupError(f"no company {company_id}")
    return company


def list_companies(session: Session) -> Sequence[Company]:
    return session.exec(select(Company).order_by(Company.name)).all()


def find_company_for_sender(session: Session, *, address: str) -> Company | None:
    """The company whose registered contact, or else whose domain, the address is."""
    address = address.strip().lower()
    companies = session.exec(select(Company)).all()
    for company in companies:
        if address in company.contacts:
            return company
    return next((company for company in companies if company.speaks_for_it(address)), None)


def company_names(session: Session, *, company_ids: Iterable[int]) -> dict[int, str]:
    ids = list(company_ids)
    if not ids:
        return {}
    rows = session.exec(select(Company.id, Company.name).where(col(Company.id).in_(ids)))
    return {company_id: name for company_id, name in rows if company_id is not None}


def company_locations(session: Session, *, company: Company) -> Sequence[Location]:
    return session.exec(
        select(Location).where(Location.company_id == company.id).order_by(Location.name)
    ).all()


def add_hotspot_operator(session: Session, *, company: Company, operator: str) -> bool:
    """Let the company map spots of this HotSpot operator; False if it already could."""
    operator = " ".join(operator.split())
    if not operator or operates(company.hotspot_operators, operator):
        return False
    company.hotspot_operators = [*company.hotspot_operators, operator]  # a new list: JSON change
    session.add(company)
    return True


def set_company_token(session: Session, *, company: Company, token: str) -> None:
    """Store the company's HotSpot token, encrypted."""
    company.hotspot_token_encrypted = secrets.encrypt(token)
    session.add(company)


def company_token(company: Company) -> str | None:
    """The company's HotSpot token in clear, for the HotSpot client only."""
    if company.hotspot_token_encrypted is None:
        return None
    return secrets.decrypt(company.hotspot_token_encrypted)


# --- requests ----------------------------------------------------------------------------


def record_request(
    session: Session,
    *,
    key: str,
    source: RequestSource,
    raw: bytes,
    parsed: dict | None,
    sender: str | None,
    subject: str | None,
    spots: Iterable[tuple[str, str]],
    company_id: int | None = None,
    state: RequestState = RequestState.received,
    reason: str | None = None,
    reply_to: str | None = None,
    trust_notes: list[str] | None = None,
) -> tuple[OnboardingRequest, bool]:
    """Store a request with its raw input; the same key again returns the stored one."""
    existing = session.exec(select(OnboardingRequest).where(OnboardingRequest.key == key)).first()
    if existing is not None:
        return existing, False
    request = OnboardingRequest(
        key=key,
        source=source,
        raw=raw,
        parsed=parsed,
        sender=sender,
        subject=subject,
        company_id=company_id,
        state=state,
        reason=reason,
        reply_to=reply_to,
        trust_notes=trust_notes or [],
    )
    session.add(request)
    session.flush()
    for position, (location, spot_id) in enumerate(spots):
        session.add(
            RequestSpot(
                request_id=request.id, position=position, location=location, spot_id=spot_id
            )
        )
    session.flush()
    return request, True


def get_request(session: Session, *, request_id: int) -> OnboardingRequest:
    request = session.get(OnboardingRequest, request_id)
    if request is None:
        raise LookupError(f"no onboarding request {request_id}")
    return request


def company_requests(
    session: Session, *, company_id: int, state: RequestState
) -> Sequence[OnboardingRequest]:
    return session.exec(
        select(OnboardingRequest)
        .where(OnboardingRequest.company_id == company_id, OnboardingRequest.state == state)
        .order_by(OnboardingRequest.id)
    ).all()


def list_requests(session: Session) -> Sequence[OnboardingRequest]:
    return session.exec(select(OnboardingRequest).order_by(OnboardingRequest.id)).all()


def set_request_state(
    session: Session, *, request: OnboardingRequest, state: RequestState, reason: str | None
) -> None:
    request.state = state
    request.reason = reason
    request.updated_at = utcnow()
    session.add(request)


def take_lease(
    session: Session,
    *,
    request_id: int,
    owner: str,
    seconds: float,
    from_dead: str | None = None,
) -> OnboardingRequest | None:
    """Take or renew the request's lease for `owner` (compare and set: free, lapsed, already
    `owner`'s, or still `from_dead`'s, a holder known dead). None when taken; else the request
    as it stands, naming its holder."""
    now = utcnow()
    takeable = [
        col(OnboardingRequest.lease_owner).is_(None),
        col(OnboardingRequest.lease_owner) == owner,
        col(OnboardingRequest.lease_expires_at) < now,
    ]
    if from_dead is not None:
        takeable.append(col(OnboardingRequest.lease_owner) == from_dead)
    taken = session.execute(
        sa.update(OnboardingRequest)
        .where(col(OnboardingRequest.id) == request_id, sa.or_(*takeable))
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=seconds),
            run_last_seen_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount:
        return None
    return session.exec(select(OnboardingRequest).where(OnboardingRequest.id == request_id)).one()


def interrupted_requests(session: Session) -> Sequence[OnboardingRequest]:
    """Requests whose run held the lease and stopped renewing it: it died at work."""
    return session.exec(
        select(OnboardingRequest)
        .where(col(OnboardingRequest.lease_expires_at) < utcnow())
        .order_by(OnboardingRequest.id)
    ).all()


def release_lease(session: Session, *, request_id: int, owner: str) -> None:
    """Give the lease back (only if `owner` still holds it)."""
    session.execute(
        sa.update(OnboardingRequest)
        .where(col(OnboardingRequest.id) == request_id, OnboardingRequest.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


def approve_request(session: Session, *, request: OnboardingRequest, company: Company) -> None:
    """Ops let a held request run for the company they name."""
    request.company_id = company.id
    set_request_state(session, request=request, state=RequestState.received, reason=None)


REJECTED_BY_OPS = "rejected by ops"


def reject_by_ops(session: Session, *, request: OnboardingRequest, why: str) -> None:
    """Refuse the request for good: it is never validated or run again."""
    set_request_state(
        session, request=request, state=RequestState.rejected, reason=f"{REJECTED_BY_OPS}: {why}"
    )


def is_rejected_by_ops(request: OnboardingRequest) -> bool:
    return request.state == RequestState.rejected and (request.reason or "").startswith(
        REJECTED_BY_OPS
    )


def set_line_location(session: Session, *, line: RequestSpot, location: str) -> None:
    """Ops said which of the company's locations a request line means."""
    line.location = location
    line.verdict = SpotVerdict.pending
    line.reason = None
    session.add(line)


def set_flow_run(session: Session, *, request: OnboardingRequest, flow_run_id: str) -> None:
    request.flow_run_id = flow_run_id
    session.add(request)


def request_spots(session: Session, *, request_id: int) -> Sequence[RequestSpot]:
    return session.exec(
        select(RequestSpot)
        .where(RequestSpot.request_id == request_id)
        .order_by(RequestSpot.position)
    ).all()


def set_verdict(
    session: Session,
    *,
    line: RequestSpot,
    verdict: SpotVerdict,
    reason: str | None = None,
    customer_reason: str | None = None,
    hotspot_operator: str | None = None,
) -> None:
    line.verdict = verdict
    line.reason = reason
    line.customer_reason = customer_reason
    line.hotspot_operator = hotspot_operator
    session.add(line)


# --- inbound email and replies ------------------------------------------------------------


def get_inbound(
    session: Session, *, mailbox: str, uidvalidity: int, uid: int
) -> InboundMessage | None:
    return session.exec(
        select(InboundMessage).where(
            InboundMessage.mailbox == mailbox,
            InboundMessage.uidvalidity == uidvalidity,
            InboundMessage.uid == uid,
        )
    ).first()


def record_inbound(session: Session, *, message: InboundMessage) -> InboundMessage:
    session.add(message)
    session.flush()
    return message


def mark_filed(session: Session, *, inbound_id: int, folder: str) -> None:
    message = session.get(InboundMessage, inbound_id)
    if message is not None:
        message.filed_to = folder
        message.filed_at = utcnow()
        session.add(message)


def claim_reply(session: Session, *, request_id: int, kind: str, recipient: str) -> Reply | None:
    """Claim the one reply of this kind for the request; None if it was already sent."""
    reply = session.exec(
        select(Reply).where(Reply.request_id == request_id, Reply.kind == kind)
    ).first()
    if reply is not None:
        return None if reply.sent_at is not None else reply
    reply = Reply(request_id=request_id, kind=kind, recipient=recipient)
    session.add(reply)
    session.flush()
    return reply


def mark_reply_sent(session: Session, *, reply_id: int) -> None:
    reply = session.get(Reply, reply_id)
    if reply is not None:
        reply.sent_at = utcnow()
        session.add(reply)


def replies_for(session: Session, *, request_id: int) -> Sequence[Reply]:
    return session.exec(select(Reply).where(Reply.request_id == request_id)).all()


# --- integrations and mappings -----------------------------------------------------------


def get_integration(session: Session, *, company_id: int) -> Integration | None:
    return session.exec(select(Integration).where(Integration.company_id == company_id)).first()


def ensure_integration(session: Session, *, company_id: int) -> tuple[Integration, bool]:
    """The company's one integration, created if it has none yet.

    Two requests of a new company at once: the database's unique company decides, the
    loser reads the winner's row (no check-then-insert).
    """
    created = _insert_or_nothing(
        session,
        Integration,
        company_id=company_id,
        state=IntegrationState.pending,
        created_at=utcnow(),
    )
    integration = get_integration(session, company_id=company_id)
    assert integration is not None
    return integration, created


def _insert_or_nothing(session: Session, model: type[SQLModel], **values: object) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (any unique constraint); True if a row was inserted."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    return session.execute(statement).first() is not None


def mark_integration_live(session: Session, *, integration_id: int) -> None:
    integration = session.get(Integration, integration_id)
    if integration is not None and integration.state != IntegrationState.live:
        integration.state = IntegrationState.live
        integration.live_at = utcnow()
        session.add(integration)


def mappings_by_spot(session: Session, *, spot_ids: Iterable[str]) -> dict[str, SpotMapping]:
    rows = session.exec(select(SpotMapping).where(col(SpotMapping.spot_id).in_(list(spot_ids))))
    return {mapping.spot_id: mapping for mapping in rows}


def mappings_by_location(session: Session, *, company_id: int) -> dict[int, SpotMapping]:
    rows = session.exec(select(SpotMapping).where(SpotMapping.company_id == company_id))
    return {mapping.location_id: mapping for mapping in rows}


def claim_mappings(
    session: Session,
    *,
    company_id: int,
    integration_id: int,
    request_id: int,
    wanted: Sequence[tuple[int, str]],
) -> dict[str, SpotMapping | None]:
    """Map each (location id, SpotID) for this request unless either side is mapped already;
    the mapping each SpotID has afterwards (None: its location went to another SpotID).

    The database decides races (unique SpotID, unique location): of two requests claiming a
    SpotID at once, the first insert wins and the other reads the winner's mapping.
    """
    for location_id, spot_id in wanted:
        now = utcnow()
        _insert_or_nothing(
            session,
            SpotMapping,
            company_id=company_id,
            integration_id=integration_id,
            location_id=location_id,
            spot_id=spot_id,
            request_id=request_id,
            state=MappingState.mapped,
            created_at=now,
            updated_at=now,
        )
    mappings = mappings_by_spot(session, spot_ids=[spot_id for _, spot_id in wanted])
    return {spot_id: mappings.get(spot_id) for _, spot_id in wanted}


def get_mapping(session: Session, *, mapping_id: int) -> SpotMapping:
    mapping = session.get(SpotMapping, mapping_id)
    if mapping is None:
        raise LookupError(f"no mapping {mapping_id}")
    return mapping


def request_mappings(session: Session, *, request_id: int) -> Sequence[SpotMapping]:
    """The mappings for the request's accepted SpotIDs, in request order."""
    return session.exec(
        select(SpotMapping)
        .join(RequestSpot, col(RequestSpot.spot_id) == col(SpotMapping.spot_id))
        .where(
            RequestSpot.request_id == request_id,
            RequestSpot.verdict == SpotVerdict.accepted,
            SpotMapping.request_id == request_id,
        )
        .order_by(RequestSpot.position)
    ).all()


def set_mapping_state(
    session: Session,
    *,
    mapping_id: int,
    state: MappingState,
    reason: str | None = None,
    expected: Collection[MappingState],
) -> bool:
    """Move the mapping to `state` only if it is in one of the `expected` states now (compare
    and set, in the database): a stale run never overwrites a newer truth. True if moved."""
    moved = session.execute(
        sa.update(SpotMapping)
        .where(col(SpotMapping.id) == mapping_id, col(SpotMapping.state).in_(list(expected)))
        .values(state=state, reason=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount)


def list_integrations(session: Session) -> Sequence[tuple[Company, Integration]]:
    return session.exec(
        select(Company, Integration)
        .join(Integration, col(Integration.company_id) == col(Company.id))
        .order_by(Company.name)
    ).all()


def integration_mappings(
    session: Session, *, integration_id: int
) -> Sequence[tuple[SpotMapping, Location]]:
    return session.exec(
        select(SpotMapping, Location)
        .join(Location, col(Location.id) == col(SpotMapping.location_id))
        .where(SpotMapping.integration_id == integration_id)
        .order_by(Location.name)
    ).all()


# --- test permits ------------------------------------------------------------------------


def active_permit(session: Session, *, mapping_id: int) -> TestPermit | None:
    return session.exec(
        select(TestPermit).where(
            TestPermit.mapping_id == mapping_id, col(TestPermit.state).in_(ACTIVE_PERMIT_STATES)
        )
    ).first()


def active_permits(session: Session, *, mapping_ids: Iterable[int]) -> dict[int, TestPermit]:
    """The active test permit of each of these mappings that has one, by mapping id."""
    ids = list(mapping_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(TestPermit).where(
            col(TestPermit.mapping_id).in_(ids), col(TestPermit.state).in_(ACTIVE_PERMIT_STATES)
        )
    )
    return {permit.mapping_id: permit for permit in rows}


def add_permit(
    session: Session,
    *,
    mapping: SpotMapping,
    external_id: str,
    with_company_token: bool,
    start_time: datetime,
    end_time: datetime,
) -> TestPermit:
    """Record a test permit before it is pushed, so a retried push reuses its external_id."""
    permit = TestPermit(
        mapping_id=mapping.id,
        spot_id=mapping.spot_id,
        external_id=external_id,
        with_company_token=with_company_token,
        start_time=start_time,
        end_time=end_time,
    )
    session.add(permit)
    session.flush()
    return permit


def get_permit(session: Session, *, permit_id: int) -> TestPermit:
    permit = session.get(TestPermit, permit_id)
    if permit is None:
        raise LookupError(f"no test permit {permit_id}")
    return permit


def update_permit(session: Session, *, permit: TestPermit, **changes: object) -> None:
    for name, value in changes.items():
        setattr(permit, name, value)
    if changes.get("state") == PermitState.revoked and permit.revoked_at is None:
        permit.revoked_at = utcnow()
    session.add(permit)


def expired_active_permits(
    session: Session, *, before: datetime
) -> Sequence[tuple[TestPermit, Company]]:
    """Test permits the store still calls active though they ended before `before`, each with
    the company whose token (if any) pushed it."""
    return session.exec(
        select(TestPermit, Company)
        .join(SpotMapping, col(SpotMapping.id) == col(TestPermit.mapping_id))
        .join(Company, col(Company.id) == col(SpotMapping.company_id))
        .where(col(TestPermit.state).in_(ACTIVE_PERMIT_STATES), TestPermit.end_time < before)
        .order_by(TestPermit.id)
    ).all()


def permits_for_spot(session: Session, *, spot_id: str) -> Sequence[TestPermit]:
    return session.exec(
        select(TestPermit).where(TestPermit.spot_id == spot_id).order_by(TestPermit.id)
    ).all()


# --- reporting ---------------------------------------------------------------------------


def request_outcome(session: Session, *, request_id: int) -> RequestOutcome:
    """Each SpotID of the request with the state it is in now."""
    request = get_request(session, request_id=request_id)
    company = session.get(Company, request.company_id) if request.company_id else None
    lines = request_spots(session, request_id=request_id)
    mappings = mappings_by_spot(session, spot_ids=[line.spot_id for line in lines])
    spots = []
    for line in lines:
        mapping = mappings.get(line.spot_id)
        if line.verdict == SpotVerdict.accepted and mapping and mapping.request_id == request_id:
            status, reason, customer_reason = mapping.state.value, mapping.reason, None
        else:
            status, reason = line.verdict.value, line.reason
            customer_reason = line.customer_reason
        spots.append(
            SpotStatus(
                location=line.location,
                spot_id=line.spot_id,
                status=status,
                reason=reason,
                customer_reason=customer_reason,
            )
        )
    return RequestOutcome(
        request_id=request_id,
        company=company.name if company else None,
        state=request.state.value,
        reason=request.reason,
        spots=spots,
        run_last_seen_at=request.run_last_seen_at,
        interrupted=request.interrupted,
    )


def status_report(session: Session) -> StatusReport:
    integrations = [
        IntegrationStatus(
            company=company.name,
            status=integration.state.value,
            hotspot_operators=company.hotspot_operators,
            mappings=[
                MappingStatus(
                    location=location.name,
                    spot_id=mapping.spot_id,
                    status=mapping.state.value,
                    reason=mapping.reason,
                )
                for mapping, location in integration_mappings(
                    session, integration_id=integration.id or 0
                )
            ],
        )
        for company, integration in list_integrations(session)
    ]
    requests = [
        request_outcome(session, request_id=request.id or 0) for request in list_requests(session)
    ]
    return StatusReport(integrations=integrations, requests=requests)


# --- the request form --------------------------------------------------------------------


def find_company(session: Session, *, company_id: int) -> Company | None:
    """The company a signed form link names, or None if it is gone since."""
    return session.get(Company, company_id)


def company_request(
    session: Session, *, request_id: int, company: Company
) -> OnboardingRequest | None:
    """The request if it is the company's own, else None: a form link sees no other's.

    A form request belongs to the company its signed link names (held or not); an email
    request to the company intake found for its sender.
    """
    return session.exec(
        select(OnboardingRequest).where(
            OnboardingRequest.id == request_id, OnboardingRequest.company_id == company.id
        )
    ).first()


def record_form_link(
    session: Session, *, company_id: int, token_digest: str, expires_at: datetime
) -> IssuedLink:
    """Remember a form link made for the company (by the digest of its token)."""
    link = IssuedLink(company_id=company_id, token_digest=token_digest, expires_at=expires_at)
    session.add(link)
    session.flush()
    return link


def find_form_link(
    session: Session, *, link_id: int | None = None, token_digest: str | None = None
) -> IssuedLink | None:
    """The recorded form link with that id, or with that token's digest."""
    if link_id is not None:
        return session.get(IssuedLink, link_id)
    return session.exec(select(IssuedLink).where(IssuedLink.token_digest == token_digest)).first()


def revoke_form_link(session: Session, *, link: IssuedLink) -> None:
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.add(link)


def form_link_revoked(session: Session, *, token_digest: str) -> bool:
    revoked = select(IssuedLink.id).where(
        IssuedLink.token_digest == token_digest, col(IssuedLink.revoked_at).is_not(None)
    )
    return session.exec(revoked).first() is not None


# --- token links: a single-use link asking a waiting request's contact for the token ------


def record_token_link(
    session: Session,
    *,
    company_id: int,
    request_id: int,
    recipient: str,
    expires_at: datetime,
    purpose: LinkPurpose = LinkPurpose.token,
) -> IssuedLink:
    """A new request link row; its digest is set once its token (which names the row) is
    made."""
    link = IssuedLink(
        company_id=company_id,
        purpose=purpose,
        request_id=request_id,
        recipient=recipient,
        token_digest=f"unsigned:{uuid.uuid4().hex}",
        expires_at=expires_at,
    )
    session.add(link)
    session.flush()
    return link


def set_link_digest(session: Session, *, link: IssuedLink, token_digest: str) -> None:
    link.token_digest = token_digest
    session.add(link)
    session.flush()


def open_token_link(session: Session, *, request_id: int, now: datetime) -> IssuedLink | None:
    """The request's token link that still works (unused, not revoked, not expired)."""
    return session.exec(
        select(IssuedLink)
        .where(
            IssuedLink.purpose == LinkPurpose.token,
            IssuedLink.request_id == request_id,
            col(IssuedLink.used_at).is_(None),
            col(IssuedLink.revoked_at).is_(None),
            IssuedLink.expires_at > now,
        )
        .order_by(col(IssuedLink.id).desc())
    ).first()


def use_token_link(session: Session, *, link_id: int) -> bool:
    """Mark the link used, once (compare-and-set): False if it was used already."""
    used = session.execute(
        sa.update(IssuedLink)
        .where(col(IssuedLink.id) == link_id, col(IssuedLink.used_at).is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(used.rowcount)


def close_token_links(session: Session, *, company_id: int) -> None:
    """The company's token is on file: its unused token links have nothing left to ask."""
    session.execute(
        sa.update(IssuedLink)
        .where(
            IssuedLink.company_id == company_id,
            IssuedLink.purpose == LinkPurpose.token,
            col(IssuedLink.used_at).is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def token_links_to_follow(session: Session) -> Sequence[IssuedLink]:
    """Unused, unrevoked token links whose reminder or expiry notice is still to come."""
    return session.exec(
        select(IssuedLink).where(
            IssuedLink.purpose == LinkPurpose.token,
            col(IssuedLink.used_at).is_(None),
            col(IssuedLink.revoked_at).is_(None),
            col(IssuedLink.expiry_noticed_at).is_(None),
        )
    ).all()


def mark_link_followed(
    session: Session, *, link_id: int, reminded: bool = False, expiry_noticed: bool = False
) -> None:
    link = session.get(IssuedLink, link_id)
    if link is None:
        return
    if reminded:
        link.reminded_at = utcnow()
    if expiry_noticed:
        link.expiry_noticed_at = utcnow()
    session.add(link)


def request_token_links(
    session: Session, *, request_id: int, purpose: LinkPurpose = LinkPurpose.token
) -> Sequence[IssuedLink]:
    """The request's single-use links of that purpose, oldest first."""
    return session.exec(
        select(IssuedLink)
        .where(IssuedLink.purpose == purpose, IssuedLink.request_id == request_id)
        .order_by(col(IssuedLink.id))
    ).all()


# --- status questions ----------------------------------------------------------------------

TESTING = (MappingState.mapped, MappingState.test_issued, MappingState.verified)
OPEN_REQUEST_STATES = (
    RequestState.received,
    RequestState.held,
    RequestState.needs_review,
    RequestState.validated,
    RequestState.mapped,
    RequestState.test_issued,
    RequestState.verified,
    RequestState.waiting_on_ops,
    RequestState.failed,
)


def company_standing(session: Session, *, company: Company) -> CompanyStanding:
    """Each of the company's locations: live, being tested, waiting on the company's token,
    waiting on Offstreet, or not asked for yet."""
    integration = get_integration(session, company_id=company.id or 0)
    mappings = mappings_by_location(session, company_id=company.id or 0)
    requests = session.exec(
        select(OnboardingRequest).where(
            OnboardingRequest.company_id == company.id,
            col(OnboardingRequest.state).in_(OPEN_REQUEST_STATES),
        )
    ).all()
    asked: dict[str, str] = {}  # location (normalised) -> SpotID, from requests still open
    for request in requests:
        for line in request_spots(session, request_id=request.id or 0):
            if line.verdict not in (SpotVerdict.rejected, SpotVerdict.already_live):
                asked.setdefault(normalise_location(line.location), line.spot_id)
    token_waits = company.hotspot_token_encrypted is None
    standings = []
    for location in company_locations(session, company=company):
        mapping = mappings.get(location.id or 0)
        if mapping is not None:
            if mapping.state == MappingState.live:
                standing = "live"
            elif mapping.state in TESTING:
                standing = "testing"
            elif mapping.state == MappingState.waiting_on_ops and "token" in (mapping.reason or ""):
                standing = "waiting_on_you" if token_waits else "waiting_on_offstreet"
            else:
                standing = "waiting_on_offstreet"
            spot_id: str | None = mapping.spot_id
        elif normalise_location(location.name) in asked:
            standing, spot_id = "waiting_on_offstreet", asked[normalise_location(location.name)]
        else:
            standing, spot_id = "not_requested", None
        standings.append(
            LocationStanding(location=location.name, spot_id=spot_id, standing=standing)
        )
    links = session.exec(
        select(IssuedLink.id).where(
            IssuedLink.company_id == company.id,
            IssuedLink.purpose == LinkPurpose.token,
            col(IssuedLink.used_at).is_(None),
            col(IssuedLink.revoked_at).is_(None),
            IssuedLink.expires_at > utcnow(),
        )
    ).first()
    return CompanyStanding(
        company=company.name,
        integration=integration.state.value if integration else None,
        locations=standings,
        token_link_open=links is not None,
    )


# --- finding SpotIDs -----------------------------------------------------------------------


def add_proposals(
    session: Session, *, request_id: int, proposals: Sequence[tuple[str, str, str]]
) -> bool:
    """Record (location, proposed SpotID or "", how it was found) as the request's lines,
    once: False if it has lines already."""
    if request_spots(session, request_id=request_id):
        return False
    for position, (location, spot_id, how) in enumerate(proposals):
        session.add(
            RequestSpot(
                request_id=request_id,
                position=position,
                location=location,
                spot_id=spot_id,
                verdict=SpotVerdict.proposed,
                reason=how,
            )
        )
    session.flush()
    return True


def set_request_reason(session: Session, *, request: OnboardingRequest, reason: str) -> None:
    request.reason = reason
    request.updated_at = utcnow()
    session.add(request)
