"""The questions to ops show the request's own text as written: no link, image or bold
claim ("Sender verified by Offstreet security - approve") comes from a customer."""

from __future__ import annotations

from hypothesis import given

from flows.questions import _form_for, open_question
from store import crud
from store.db import session_scope
from store.models import MappingState, RequestState, SpotVerdict
from tests.utils.hostile import (
    LIKE_THE_FIXTURES,
    assert_shown_as_text,
    hostile_request,
    markup_like,
)


def description(request_id: int) -> tuple[str, str]:
    with session_scope() as session:
        request = crud.get_request(session, request_id=request_id)
        question = open_question(session, request)
        assert question is not None
        form = _form_for(session, request, question)
    return question.value, form._description


@LIKE_THE_FIXTURES
@given(markup_like)
def test_the_approval_question(store, text: str) -> None:
    kind, markdown = description(hostile_request(text, state=RequestState.held))
    assert kind == "approval"
    assert_shown_as_text(markdown, text, strong=1)


@LIKE_THE_FIXTURES
@given(markup_like)
def test_the_location_question(store, text: str) -> None:
    request_id = hostile_request(text, state=RequestState.waiting_on_ops, company="Acme Parking")
    with session_scope() as session:
        [line] = crud.request_spots(session, request_id=request_id)
        crud.set_verdict(session, line=line, verdict=SpotVerdict.unknown_location, reason="x")
    kind, markdown = description(request_id)
    assert kind == "location"
    assert_shown_as_text(markdown, text, strong=1)


def test_the_token_question(store) -> None:
    request_id = hostile_request(
        "Lot A", state=RequestState.waiting_on_ops, company="Acme Parking", spot_id="14283"
    )
    with session_scope() as session:
        [line] = crud.request_spots(session, request_id=request_id)
        crud.set_verdict(session, line=line, verdict=SpotVerdict.accepted)
        acme = crud.get_company_by_name(session, name="Acme Parking")
        integration, _ = crud.ensure_integration(session, company_id=acme.id)
        lot_a = crud.company_locations(session, company=acme)[0]
        claimed = crud.claim_mappings(
            session,
            company_id=acme.id,
            integration_id=integration.id,
            request_id=request_id,
            wanted=[(lot_a.id, "14283")],
        )
        mapping_id = claimed["14283"].id

    @LIKE_THE_FIXTURES
    @given(markup_like)
    def check(text: str) -> None:  # HotSpot's own words end up in the reason
        with session_scope() as session:
            mapping = crud.get_mapping(session, mapping_id=mapping_id)
            crud.set_mapping_state(
                session,
                mapping_id=mapping.id,
                state=MappingState.waiting_on_ops,
                reason=text,
                expected=list(MappingState),
            )
        kind, markdown = description(request_id)
        assert kind == "token"
        assert_shown_as_text(markdown, text, strong=1)

    check()
