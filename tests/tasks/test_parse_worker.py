"""The watcher's parser process: the parser's answers, a time limit, a fresh worker after one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inbox.imap import HeaderOnly
from parsers import (
    Limits,
    MessageTooLarge,
    NotASpotIDRequest,
    UnreadableInput,
    parse_email,
)
from settings import settings
from tasks.parse_worker import ParserFailed, ParserProcess, ParseTimedOut, parse_email_bounded

REQUEST = b"From: jane@acme.example\r\nSubject: SpotIDs\r\n\r\nLot A: 14283\r\nLot B: 15320\r\n"
NEWSLETTER = b"From: news@example.com\r\nSubject: News\r\n\r\nTen tips for a tidy garage.\r\n"
# A megabyte of pairs on one line, with the line bounds lifted: seconds of honest work.
SLOW = b"From: jane@acme.example\r\nSubject: SpotIDs\r\n\r\n" + b"Lot A 14283 " * 90_000
UNBOUNDED = Limits(max_line_chars=10**9, max_numbers_per_line=10**9, max_number_lines=10**9)


@pytest.fixture
def worker() -> Iterator[ParserProcess]:
    process = ParserProcess()
    yield process
    process.close()


async def test_answers_as_the_parser_does() -> None:
    assert await parse_email_bounded(REQUEST) == parse_email(REQUEST)
    with pytest.raises(NotASpotIDRequest, match="no SpotIDs"):
        await parse_email_bounded(NEWSLETTER)
    with pytest.raises(UnreadableInput, match="empty input"):
        await parse_email_bounded(b"")


async def test_the_size_bound_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "max_message_bytes", 50)
    with pytest.raises(MessageTooLarge, match="over the 50 bytes read"):
        await parse_email_bounded(REQUEST)


async def test_a_header_only_fetch_is_refused_without_parsing() -> None:
    header = HeaderOnly(b"From: jane@acme.example\r\nSubject: Big\r\n\r\n", 25_000_000)
    with pytest.raises(MessageTooLarge, match="25,000,000 bytes, over MAX_MESSAGE_BYTES"):
        await parse_email_bounded(header)


def test_a_parse_over_the_time_limit_is_refused_and_the_worker_replaced(
    worker: ParserProcess,
) -> None:
    assert worker.parse(REQUEST, limits=Limits(), timeout=60).spots
    with pytest.raises(ParseTimedOut, match="longer than 0.2 s"):
        worker.parse(SLOW, limits=UNBOUNDED, timeout=0.2)
    assert issubclass(ParseTimedOut, UnreadableInput)  # intake files it for review
    assert worker.parse(REQUEST, limits=Limits(), timeout=60).spots
    assert worker.starts == 2


def test_the_same_message_within_its_bounds_is_answered(worker: ParserProcess) -> None:
    request = worker.parse(SLOW, limits=Limits(), timeout=60)
    assert request.spots == [] and "too long to read" in request.warnings[0]


def test_a_dead_worker_is_replaced(worker: ParserProcess) -> None:
    worker.warm_up()
    assert worker._process is not None
    worker._process.kill()
    worker._process.wait()
    assert worker.parse(REQUEST, limits=Limits(), timeout=60).spots
    assert worker.starts == 2


def test_an_unexpected_failure_is_unreadable_not_a_crash(worker: ParserProcess) -> None:
    broken = Limits(max_message_bytes="many")  # type: ignore[arg-type]
    with pytest.raises(ParserFailed, match="TypeError"):
        worker.parse(REQUEST, limits=broken, timeout=60)
    assert worker.parse(REQUEST, limits=Limits(), timeout=60).spots
    assert worker.starts == 1
