"""What the CLI prints of customer text is that text: Rich markup and emoji codes in a sender,
a subject or a location are never read as styles (nor fail with MarkupError)."""

from __future__ import annotations

from hypothesis import given
from typer.testing import CliRunner

from cli.main import app
from cli.output import console, print_outcome, print_status
from parsers import parse_any
from store.models import RequestState
from store.schemas import IntegrationStatus, MappingStatus, RequestOutcome, SpotStatus, StatusReport
from tasks.intake import record_request
from tests.utils.hostile import LIKE_THE_FIXTURES, hostile_request, markup_like

runner = CliRunner()


def test_status_shows_a_sender_made_of_markup(store) -> None:
    raw = (
        b'From: "[/red]"@evil.test\r\nSubject: [bold]SpotIDs :warning:\r\n'
        b"Message-ID: <markup@evil.test>\r\n\r\nLot A: 14283\r\n"
    )
    record_request(raw, parse_any(raw))

    result = runner.invoke(app, ["status"])

    assert result.exit_code == 0, result.output
    assert '"[/red]"@evil.test' in "".join(result.stdout.split())


@LIKE_THE_FIXTURES
@given(markup_like)
def test_status_prints_any_request(store, text: str) -> None:
    hostile_request(text, state=RequestState.held)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output


@given(markup_like)
def test_tables_show_customer_text_as_written(text: str) -> None:
    spot = SpotStatus(location=text, spot_id=text, status="rejected", reason=text)
    outcome = RequestOutcome(request_id=1, company=text, state="held", reason=text, spots=[spot])
    mapping = MappingStatus(location=text, spot_id=text, status="live")
    report = StatusReport(
        integrations=[IntegrationStatus(company=text, status="live", mappings=[mapping])],
        requests=[outcome],
    )
    wide = console()
    wide.width = 2000
    with wide.capture() as captured:
        print_status(wide, report)
        print_outcome(wide, outcome)
    if text.isprintable():  # what a terminal can show as it is
        assert text.strip() in captured.get()
