from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
import sqlalchemy as sa
from alembic import command
from pydantic import SecretStr

from store import crud
from store.db import alembic_config, get_engine, migrate, session_scope
from store.models import PermitState, RequestSource, SpotMapping, utcnow
from store.schemas import CompanyIn

ACME = CompanyIn(
    name="Acme Parking",
    contacts=["Jane@Acme.example"],
    domains=["acme.example"],
    locations=["Lot A", "Lot B"],
    hotspot_token=SecretStr("tok-acme-very-secret"),
)


def test_upsert_company_is_idempotent_and_only_adds_locations(store_url: str) -> None:
    with session_scope() as session:
        crud.upsert_company(session, company_in=ACME)
    with session_scope() as session:
        again = ACME.model_copy(update={"locations": ["lot  a", "Garage C"]})
        company = crud.upsert_company(session, company_in=again)
        names = [loc.name for loc in crud.company_locations(session, company=company)]
    assert names == ["Garage C", "Lot A", "Lot B"]
    with session_scope() as session:
        assert (
            len(session.exec(sa.select(sa.text("id")).select_from(sa.text("company"))).all()) == 1
        )


def test_company_found_by_contact_then_domain(store_url: str) -> None:
    with session_scope() as session:
        crud.upsert_company(session, company_in=ACME)
        other = CompanyIn(name="Harbor", contacts=["ops@acme.example"], domains=["harbor.example"])
        crud.upsert_company(session, company_in=other)
    with session_scope() as session:
        assert crud.find_company_for_sender(session, address="JANE@acme.example").name == ACME.name
        assert crud.find_company_for_sender(session, address="ops@acme.example").name == "Harbor"
        assert crud.find_company_for_sender(session, address="bob@acme.example").name == ACME.name
        assert crud.find_company_for_sender(session, address="x@unknown.example") is None


def test_token_is_encrypted_at_rest(store_url: str) -> None:
    with session_scope() as session:
        company = crud.upsert_company(session, company_in=ACME)
        crud.set_company_token(session, company=company, token="tok-rotated-secret")
    with get_engine().connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM company")).all()
    assert "tok-rotated-secret" not in repr(rows)
    assert "tok-acme-very-secret" not in repr(rows)
    with session_scope() as session:
        company = crud.get_company_by_name(session, name="acme parking")
        assert crud.company_token(company) == "tok-rotated-secret"


def _store_email(key: str) -> tuple[int, bool]:
    """Jane's email stored as intake stores it: the request's id, and whether it is new."""
    with session_scope() as session:
        request, created = crud.record_request(
            session,
            key=key,
            source=RequestSource.email,
            raw=b"raw",
            parsed={},
            sender="jane@acme.example",
            subject="s",
            spots=[("Lot A", "14283")],
        )
        return request.id or 0, created


def test_same_request_key_is_one_request(store_url: str) -> None:
    first, created_first = _store_email("message-id:<1@acme>")
    second, created_second = _store_email("message-id:<1@acme>")
    assert (first, created_first) == (second, True) and created_second is False
    with session_scope() as session:
        assert len(crud.request_spots(session, request_id=first)) == 1
        assert crud.get_request(session, request_id=first).raw == b"raw"

    # The same email stored by several processes at once (two `onboard` of one file, two
    # watchers): the database decides, one request, no IntegrityError.
    start = Barrier(4)

    def at_once(key: str) -> tuple[int, bool]:
        start.wait()
        return _store_email(key)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(at_once, ["message-id:<2@acme>"] * 4))
    assert len({request_id for request_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]


def _claim(session, spot_id: str = "14283", location: str = "Lot A"):  # type: ignore[no-untyped-def]
    """A new request of Acme's claims (location, SpotID); the mapping the SpotID then has."""
    company = crud.get_company_by_name(session, name=ACME.name)
    request, _ = crud.record_request(
        session,
        key=f"k-{spot_id}-{location}",
        source=RequestSource.form,
        raw=b"{}",
        parsed={},
        sender=None,
        subject=None,
        spots=[],
    )
    integration, _ = crud.ensure_integration(session, company_id=company.id)
    location_id = next(
        loc.id for loc in crud.company_locations(session, company=company) if loc.name == location
    )
    claimed = crud.claim_mappings(
        session,
        company_id=company.id,
        integration_id=integration.id,
        request_id=request.id,
        wanted=[(location_id, spot_id)],
    )
    return claimed[spot_id], request.id


def _mapped(session, spot_id: str = "14283", location: str = "Lot A"):  # type: ignore[no-untyped-def]
    mapping, _ = _claim(session, spot_id, location)
    return mapping


def test_a_spot_and_a_location_are_mapped_once(store_url: str) -> None:
    with session_scope() as session:
        crud.upsert_company(session, company_in=ACME)
        first, first_request = _claim(session)
    with session_scope() as session:  # the SpotID again, for another location: the first wins
        again, second_request = _claim(session, spot_id="14283", location="Lot B")
        assert again.request_id == first_request != second_request
        assert again.location_id == first.location_id
    with session_scope() as session:  # the location again, for another SpotID: not mapped
        other, _ = _claim(session, spot_id="15320", location="Lot A")
        assert other is None
    with pytest.raises(sa.exc.IntegrityError), session_scope() as session:
        session.add(SpotMapping(**first.model_dump(exclude={"id"})))  # the constraint itself


def test_one_integration_per_company(store_url: str) -> None:
    with session_scope() as session:
        company = crud.upsert_company(session, company_in=ACME)
        first, created = crud.ensure_integration(session, company_id=company.id)
        second, created_again = crud.ensure_integration(session, company_id=company.id)
    assert created and not created_again and first.id == second.id


def test_never_two_active_test_permits_at_one_mapping(store_url: str) -> None:
    now = utcnow()
    window = {"start_time": now, "end_time": now + timedelta(hours=1)}
    with session_scope() as session:
        crud.upsert_company(session, company_in=ACME)
        mapping = _mapped(session)
        first = crud.add_permit(
            session, mapping=mapping, external_id="e1", with_company_token=False, **window
        )
    with pytest.raises(sa.exc.IntegrityError), session_scope() as session:
        crud.add_permit(
            session, mapping=mapping, external_id="e2", with_company_token=True, **window
        )
    with session_scope() as session:
        crud.update_permit(
            session, permit=crud.get_permit(session, permit_id=first.id), state=PermitState.revoked
        )
        crud.add_permit(
            session, mapping=mapping, external_id="e3", with_company_token=True, **window
        )
    with session_scope() as session:
        states = [p.state for p in crud.permits_for_spot(session, spot_id="14283")]
        assert states == [PermitState.revoked, PermitState.pending]
        assert crud.permits_for_spot(session, spot_id="14283")[0].revoked_at is not None


def test_form_links_are_kept_by_digest_and_revoked_one_by_one(store_url: str) -> None:
    with session_scope() as session:
        acme = crud.upsert_company(session, company_in=ACME)
        expires = utcnow() + timedelta(days=7)
        first, _ = (
            crud.record_form_link(
                session, company_id=acme.id, token_digest=digest, expires_at=expires
            )
            for digest in ("a" * 64, "b" * 64)
        )
        assert crud.find_form_link(session, token_digest="a" * 64) is first
        assert crud.find_form_link(session, link_id=first.id) is first
        crud.revoke_form_link(session, link=first)
    with session_scope() as session:
        assert crud.form_link_revoked(session, token_digest="a" * 64)
        assert not crud.form_link_revoked(session, token_digest="b" * 64)
        assert not crud.form_link_revoked(session, token_digest="c" * 64)


def test_the_issued_links_migration_goes_down_and_up(store_url: str) -> None:
    command.downgrade(alembic_config(store_url), "0005")
    assert "issuedlink" not in sa.inspect(get_engine()).get_table_names()
    migrate(store_url)
    assert "issuedlink" in sa.inspect(get_engine()).get_table_names()
