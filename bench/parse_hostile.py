"""Parse time of hostile bodies: one very long line, and very many lines (issue 11).

Bodies as an attacker would write them, every line full of SpotID-like numbers: one line of
"Lot A 14283 " pairs (10 KiB, 100 KiB, 1 MiB), and 10k, 100k and 1M lines of one short pair
each ("L3 10003", so that a million lines stay under MAX_MESSAGE_BYTES). Each is parsed by
`parsers.parse_email` with the pipeline's bounds (`parsers.Limits()`), in this process; the
figures are the medians of the runs, per MiB of message. Target: at most 1 s per MiB, each,
judged on the CPU time the parse takes: on this machine's two cores, shared with other test
runs, the wall time says more about the others' load than about the parser (both are shown).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from bench.common import Figure
from parsers import Limits, NotASpotIDRequest, UnreadableInput, parse_email

KIB = 1024
MIB = 1024 * KIB
HEAD = (
    b"From: Jane Smith <jane@acme.example>\r\nTo: hotspot@offstreet.example\r\n"
    b"Subject: SpotIDs\r\nMessage-ID: <hostile@acme.example>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
)
TARGET_S_PER_MIB = 1.0


def one_line(size: int) -> bytes:
    """A body of one line of `size` bytes: "Lot A 14283 Lot A 14283 ..."."""
    unit = b"Lot A 14283 "
    return HEAD + (unit * (size // len(unit) + 1))[:size] + b"\r\n"


def many_lines(count: int) -> bytes:
    """A body of `count` lines, each a location and a SpotID: "L3 10003"."""
    return HEAD + b"".join(b"L%d %d\n" % (i % 10, 10000 + i % 90000) for i in range(count))


BODIES: list[tuple[str, Callable[[], bytes]]] = [
    ("one line of 10 KiB", lambda: one_line(10 * KIB)),
    ("one line of 100 KiB", lambda: one_line(100 * KIB)),
    ("one line of 1 MiB", lambda: one_line(MIB)),
    ("10k lines", lambda: many_lines(10_000)),
    ("100k lines", lambda: many_lines(100_000)),
    ("1M lines", lambda: many_lines(1_000_000)),
]


def parse_once(raw: bytes, limits: Limits) -> tuple[float, float, str]:
    """CPU and wall seconds to parse `raw`, and what the parser answered."""
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        request = parse_email(raw, limits=limits)
        answer = f"{len(request.spots)} pairs, {len(request.warnings)} warnings"
    except (NotASpotIDRequest, UnreadableInput) as exc:
        answer = f"refused: {exc}"
    return time.process_time() - cpu, time.perf_counter() - wall, answer


def measure(*, runs: int = 5, say: Callable[[str], None] = print) -> list[Figure]:
    figures = []
    limits = Limits()
    for label, build in BODIES:
        raw = build()
        size_mib = len(raw) / MIB
        cpus, walls, answer = [], [], ""
        for _ in range(runs):
            cpu, wall, answer = parse_once(raw, limits)
            cpus.append(cpu)
            walls.append(wall)
        cpu, wall = statistics.median(cpus), statistics.median(walls)
        per_mib = cpu / size_mib
        measured = (
            f"{cpu:.3f} s CPU = {per_mib:.2f} s per MiB (wall {wall:.3f} s = "
            f"{wall / size_mib:.2f} s per MiB); {answer}"
        )
        say(f"parse time, {label}: {measured}")
        figures.append(
            Figure(
                f"parse time, hostile body: {label} ({size_mib:.2f} MiB)",
                measured,
                f"≤ {TARGET_S_PER_MIB:g} s per MiB",
                per_mib <= TARGET_S_PER_MIB,
                {
                    "cpu_seconds": [round(t, 4) for t in cpus],
                    "wall_seconds": [round(t, 4) for t in walls],
                    "bytes": len(raw),
                    "answer": answer,
                },
            )
        )
    return figures
