"""Confirming proposed SpotIDs: the customer's page and ops' `confirm` race, the database
decides, and the loser is told who won."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlmodel import select

from store import crud
from store.db import session_scope
from store.models import Confirmer, OnboardingRequest, RequestSource, RequestState
from tasks.discovery import AlreadyConfirmed, confirm_proposals


def finding_spot_ids() -> int:
    """Jane's request of Acme that Offstreet proposed two SpotIDs for."""
    with session_scope() as session:
        acme = crud.get_company_by_name(session, name="Acme Parking")
        assert acme is not None
        request, _ = crud.record_request(
            session,
            key="jane-does-not-know",
            source=RequestSource.email,
            raw=b"We do not know our SpotIDs",
            parsed={"locations": []},
            sender="jane@acme.example",
            subject="SpotIDs?",
            spots=[],
            company_id=acme.id,
            state=RequestState.finding_spot_ids,
            reply_to="jane@acme.example",
        )
        crud.add_proposals(
            session,
            request_id=request.id or 0,
            proposals=[("Lot A", "14283", "exact"), ("Lot D", "17777", "exact")],
        )
        return request.id or 0


def test_the_customer_and_ops_confirming_at_once_make_one_request(any_store) -> None:
    request_id = finding_spot_ids()
    confirmers = [Confirmer.customer, Confirmer.ops] * 2
    start = Barrier(len(confirmers))

    def confirm(by: Confirmer) -> tuple[int, RequestState, bool] | AlreadyConfirmed | None:
        start.wait()
        try:
            return confirm_proposals(request_id, [0] if by == Confirmer.customer else None, by=by)
        except AlreadyConfirmed as refused:
            return refused

    with ThreadPoolExecutor(len(confirmers)) as pool:
        results = list(pool.map(confirm, confirmers))

    [won] = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if isinstance(r, AlreadyConfirmed)]
    assert len(lost) == len(confirmers) - 1
    new_id = won[0]
    with session_scope() as session:
        original = crud.get_request(session, request_id=request_id)
        assert original.confirmed_as == new_id
        assert original.state == RequestState.finding_spot_ids
        requests = session.exec(select(OnboardingRequest)).all()
    assert len(requests) == 2  # the original and the one confirmation
    by = "the customer" if original.confirmed_by == Confirmer.customer else "ops"
    assert all(
        str(refused) == f"request {request_id}: SpotIDs already confirmed by {by}: "
        f"onboarded as request {new_id}"
        for refused in lost
    )


def test_nothing_chosen_confirms_nothing(store) -> None:
    request_id = finding_spot_ids()
    assert confirm_proposals(request_id, [], by=Confirmer.customer) is None
    with session_scope() as session:
        assert crud.get_request(session, request_id=request_id).confirmed_by is None


@pytest.mark.parametrize("by", list(Confirmer))
def test_a_second_confirmation_is_refused(store, by: Confirmer) -> None:
    request_id = finding_spot_ids()
    confirm_proposals(request_id, None, by=by)
    with pytest.raises(AlreadyConfirmed, match="already confirmed by"):
        confirm_proposals(request_id, [0], by=Confirmer.customer)
