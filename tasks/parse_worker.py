"""Parsing an email off the event loop, in a worker process, within a time limit.

The parser is pure and linear-time, but a thread cannot be stopped: a message that still
takes too long (a bug, a case no bound foresaw) would hold the watcher for good. So each
email is parsed in one long-lived worker process (started on first use, kept warm), with
`PARSE_TIMEOUT_SECONDS` to answer. One that does not answer in time is killed, the next email
gets a fresh worker, and this one is refused as unreadable (`ParseTimedOut`): intake keeps it
and files it to Needs review with the reason, and goes on with the next message.

The worker gets the raw bytes and the bounds, and sends back the request as JSON (never a
pickle: a worker that hostile input had subverted could not run code in the watcher by it).
Bounds come from the settings (`MAX_MESSAGE_BYTES`); a message the mailbox fetch left at its
header because it is over that size (`inbox.imap.HeaderOnly`) is refused without parsing.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from typing import IO, Any

from parsers import Limits, MessageTooLarge, NotASpotIDRequest, SpotIDRequest, UnreadableInput
from parsers import parse_email as _parse_email

_FRAME = struct.Struct(">I")
_READY = b"ready"
_START_TIMEOUT = 120.0  # importing the parser in a fresh process, on a loaded machine
# Address space of the worker: the parser never needs a tenth of it for a 10 MB message.
_MEMORY_LIMIT = 2 * 1024**3
_REFUSALS: dict[str, type[ValueError]] = {
    "MessageTooLarge": MessageTooLarge,
    "NotASpotIDRequest": NotASpotIDRequest,
    "UnreadableInput": UnreadableInput,
}


class ParseTimedOut(UnreadableInput):
    """The parser did not answer within PARSE_TIMEOUT_SECONDS; the worker was restarted."""


class ParserFailed(UnreadableInput):
    """The parser raised something unexpected, or its worker process died."""


def limits_from(settings: Any) -> Limits:
    """The parser's bounds for this deployment (the others keep their defaults)."""
    return Limits(max_message_bytes=settings.max_message_bytes)


class ParserProcess:
    """One worker process parsing one email at a time, restarted after a timeout or a crash."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.starts = 0  # worker processes started: the first, then one per timeout or crash

    def warm_up(self) -> None:
        """Start the worker now, so that the first email does not wait for it.

        A worker that fails to start is not an error here: the first parse tries again and
        reports it.
        """
        with self._lock:
            try:
                self._running()
            except ParserFailed:
                pass

    def parse(self, raw: bytes, *, limits: Limits, timeout: float) -> SpotIDRequest:
        """Parse `raw` in the worker; raise the parser's refusals, or `ParseTimedOut`."""
        with self._lock:
            process = self._running()
            assert process.stdin is not None and process.stdout is not None
            try:
                _write(process.stdin, json.dumps(asdict(limits)).encode())
                _write(process.stdin, raw)
                answer = _read(process.stdout, deadline=time.monotonic() + timeout)
            except TimeoutError:
                self._stop()
                raise ParseTimedOut(
                    f"parsing took longer than {timeout:g} s (PARSE_TIMEOUT_SECONDS)"
                ) from None
            except (OSError, EOFError) as exc:
                self._stop()
                raise ParserFailed(f"the parser's worker process died ({exc})") from None
        reply = json.loads(answer)
        if "request" in reply:
            return SpotIDRequest.model_validate(reply["request"])
        refusal = _REFUSALS.get(reply["error"])
        if refusal is None:
            raise ParserFailed(f"the parser failed ({reply['error']}: {reply['message']})")
        raise refusal(reply["message"])

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()  # died between two emails
        self.starts += 1
        process = subprocess.Popen(
            [sys.executable, "-m", "tasks.parse_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._process = process
        assert process.stdout is not None
        try:
            if _read(process.stdout, deadline=time.monotonic() + _START_TIMEOUT) != _READY:
                raise EOFError("unexpected greeting")
        except (TimeoutError, OSError, EOFError) as exc:
            self._stop()
            raise ParserFailed(f"the parser's worker process did not start ({exc})") from None
        return process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


WORKER = ParserProcess()
atexit.register(WORKER.close)


async def parse_email_bounded(raw: bytes) -> SpotIDRequest:
    """`parsers.parse_email` in the warm worker, off the event loop, within the time limit."""
    from settings import settings  # here, so that the worker process never reads settings

    # An inbox.imap.HeaderOnly (not imported: the worker process must not load the settings).
    size = getattr(raw, "full_size", None)
    if size is not None:
        raise MessageTooLarge(
            f"the message is {size:,} bytes, over MAX_MESSAGE_BYTES "
            f"({settings.max_message_bytes:,}); only its header was downloaded, the message "
            "is in the mailbox"
        )
    return await asyncio.to_thread(
        WORKER.parse,
        bytes(raw),
        limits=limits_from(settings),
        timeout=settings.parse_timeout_seconds,
    )


def _write(stream: IO[bytes], data: bytes) -> None:
    stream.write(_FRAME.pack(len(data)) + data)
    stream.flush()


def _read(stream: IO[bytes], *, deadline: float | None = None) -> bytes:
    """One frame; TimeoutError past `deadline`, EOFError when the other side is gone."""
    header = _read_exactly(stream, _FRAME.size, deadline)
    return _read_exactly(stream, _FRAME.unpack(header)[0], deadline)


def _read_exactly(stream: IO[bytes], size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    left = size
    descriptor = stream.fileno()
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([descriptor], [], [], remaining)[0]:
                raise TimeoutError
        chunk = os.read(descriptor, min(left, 1 << 20))
        if not chunk:
            raise EOFError("end of stream")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _serve() -> None:
    """The worker: read (bounds, raw) frames from stdin, answer each with one JSON frame."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass  # not on this platform, or already lower
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    _write(stdout, _READY)
    while True:
        try:
            limits = Limits(**json.loads(_read(stdin)))
            raw = _read(stdin)
        except EOFError:
            return  # the watcher closed the pipe, or exited
        try:
            request = _parse_email(raw, limits=limits)
            reply: dict[str, Any] = {"request": request.model_dump(mode="json")}
        except Exception as exc:
            reply = {"error": type(exc).__name__, "message": str(exc)}
        _write(stdout, json.dumps(reply).encode())


if __name__ == "__main__":
    _serve()
