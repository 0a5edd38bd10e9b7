"""Companies: who they are, their contacts, locations, HotSpot operators and token."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store import secrets
from store.crud._base import location_key
from store.models import (
    Company,
    Location,
    OnboardingRequest,
    stored_id,
)
from store.schemas import CompanyIn
from trust.ownership import operates


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
    known = {location_key(loc.name) for loc in company_locations(session, company=company)}
    for name in company_in.locations:
        if location_key(name) not in known:
            session.add(Location(company_id=stored_id(company), name=name.strip()))
            known.add(location_key(name))
    session.flush()
    return company


def seed_companies(session: Session, *, companies: Iterable[CompanyIn]) -> list[Company]:
    """Create or update each company of a seed file (operators are added, never removed)."""
    return [upsert_company(session, company_in=company_in) for company_in in companies]


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


def requester_token(session: Session, *, request: OnboardingRequest) -> str | None:
    """The HotSpot token of the company that made the request, in clear (None: none yet)."""
    if request.company_id is None:
        return None
    return company_token(get_company(session, company_id=request.company_id))
