"""Parse cost: `parsers.parse_email` against the bare stdlib parse of the same bytes.

The baseline is `email.message_from_bytes(raw, policy=default).get_body()`: what any code
reading these emails pays at least. Both are timed over the whole corpus in alternation, so
the machine's noise falls on both alike; the figure is the median pass of each.
"""

from __future__ import annotations

import email
import time
from collections.abc import Callable
from email import policy
from pathlib import Path

from bench.common import Figure, median
from parsers import NotASpotIDRequest, UnreadableInput, parse_email
from settings import PROJECT_DIR

CORPUS = PROJECT_DIR / "tests" / "parsers" / "corpus"


def _ours(raws: list[bytes]) -> None:
    for raw in raws:
        try:
            parse_email(raw)
        except (NotASpotIDRequest, UnreadableInput):
            pass  # a refusal is a parse too


def _bare(raws: list[bytes]) -> None:
    for raw in raws:
        email.message_from_bytes(raw, policy=policy.default).get_body()


def _passes(raws: list[bytes], passes: int) -> tuple[list[float], list[float]]:
    ours: list[float] = []
    bare: list[float] = []
    _ours(raws)  # warm caches and imports
    _bare(raws)
    for _ in range(passes):
        for run, times in ((_ours, ours), (_bare, bare)):
            start = time.perf_counter()
            run(raws)
            times.append(time.perf_counter() - start)
    return ours, bare


def measure(*, passes: int = 30, say: Callable[[str], None] = print) -> list[Figure]:
    figures = []
    for label, files in (
        ("the sample corpus", sorted((CORPUS / "samples").glob("*.eml"))),
        ("the whole corpus", sorted(CORPUS.glob("*/*.eml"))),
    ):
        raws = [Path(file).read_bytes() for file in files]
        ours, bare = _passes(raws, passes if label == "the sample corpus" else passes // 3)
        ratio = median(ours) / median(bare)
        per_message = median(ours) / len(raws) * 1000
        say(f"parse {label}: {per_message:.2f} ms per message, {ratio:.2f}× bare")
        figures.append(
            Figure(
                f"parse cost ({label}, {len(raws)} emails)",
                f"{ratio:.2f}× bare stdlib parse ({per_message:.2f} vs "
                f"{median(bare) / len(raws) * 1000:.2f} ms per email)",
                "≤ 3× bare" if label == "the sample corpus" else "report",
                ratio <= 3 if label == "the sample corpus" else None,
                {
                    "passes": len(ours),
                    "ours_ms_per_pass": round(median(ours) * 1000, 2),
                    "bare_ms_per_pass": round(median(bare) * 1000, 2),
                },
            )
        )
    return figures
