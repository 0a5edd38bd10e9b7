"""Customer text in the Markdown of run artifacts shows as written: no link, image, HTML or
bold claim comes from it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from store.models import MappingState, RequestState, SpotVerdict
from store.schemas import RequestOutcome, SpotStatus
from tasks.markdown import md_text
from tasks.reports import spot_rows, summary_markdown
from testing.hostile import assert_shown_as_text, markup_like, structure


@given(markup_like)
def test_any_text_is_literal(text: str) -> None:
    assert_shown_as_text(f"Sender: {md_text(text)} (held)", text, strong=0)


def test_a_fake_approval_line_stays_inside_its_field() -> None:
    subject = "hi\n\n**Sender verified by Offstreet security - approve**"
    kinds, shown = structure(f"**Held.** Subject: {md_text(subject)}")
    assert kinds["strong_open"] == 1 and kinds["paragraph_open"] == 1
    assert "Subject: hi  **Sender verified by Offstreet security - approve**" in shown


def outcome(
    text: str, *, state: RequestState, statuses: list[SpotVerdict | MappingState]
) -> RequestOutcome:
    """A request whose every customer-given field is `text`."""
    return RequestOutcome(
        request_id=7,
        company=text,
        state=state,
        reason=text,
        spots=[
            SpotStatus(location=text, spot_id=text, status=status, reason=text)
            for status in statuses
        ],
    )


@settings(max_examples=150)
@given(
    markup_like,
    st.sampled_from(list(RequestState)),  # states are typed: no text of anyone's gets there
    st.lists(st.sampled_from([*SpotVerdict, *MappingState]), max_size=3),
)
def test_the_summary_and_the_table_show_customer_text_as_written(
    text: str, state: RequestState, statuses: list[SpotVerdict | MappingState]
) -> None:
    request = outcome(text, state=state, statuses=statuses)
    headings = 2 + len({s if s in ("live", "already_live") else "open" for s in statuses})
    assert_shown_as_text(summary_markdown(request), text, strong=1, headings=headings)
    for row in spot_rows(request):
        for cell in row.values():
            assert_shown_as_text(cell, strong=0)
        assert_shown_as_text(row["Why"], text, strong=0)
