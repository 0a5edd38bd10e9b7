"""Each state says what it means in one place: every member of every state enum has a phase
and a label, and what reads phases (exit codes, Prefect's final state) agrees."""

from __future__ import annotations

import pytest

from cli.onboarding import EXIT_DONE, EXIT_REFUSED, EXIT_WAITING, exit_code
from store.models import (
    AWAITING_APPROVAL,
    HEALTH_CHECKED,
    NOT_YET_VERIFIED,
    WAITING_ON_A_PERSON,
    IntegrationState,
    MappingState,
    Phase,
    RequestState,
    SpotVerdict,
    State,
)


@pytest.mark.parametrize("enum", [RequestState, SpotVerdict, MappingState, IntegrationState])
def test_every_state_has_a_phase_and_a_label(enum: type[State]) -> None:
    for state in enum:
        assert isinstance(state.phase, Phase)
        assert state.label and "_" not in state.label


def test_the_request_phases() -> None:
    final = {"live", "rejected", "status_question", "finding_spot_ids"}
    assert {s for s in RequestState if s.phase.is_final} == final
    assert set(WAITING_ON_A_PERSON) == {"held", "needs_review", "waiting_on_ops"}
    assert set(AWAITING_APPROVAL) == {"held", "needs_review"}
    assert RequestState.failed.phase == Phase.failed


def test_exit_codes_read_the_phase() -> None:
    codes = {state: exit_code(state) for state in RequestState}
    assert codes[RequestState.live] == EXIT_DONE
    assert {s for s, code in codes.items() if code == EXIT_WAITING} == set(WAITING_ON_A_PERSON)
    assert codes[RequestState.rejected] == codes[RequestState.failed] == EXIT_REFUSED


def test_a_degraded_mapping_waits_on_a_person_and_is_checked_again() -> None:
    assert MappingState.degraded.phase == Phase.waiting
    assert set(HEALTH_CHECKED) == {MappingState.live, MappingState.degraded}
    assert MappingState.degraded not in NOT_YET_VERIFIED  # onboarding runs never move it
