"""How the parser does on each corpus of `tests/parsers/corpus`: exact, held, wrong.

Per message: *exact* when the outcome is the expected one (the same pairs and as many
warnings, or the expected refusal); *held* when it is not, but the request carries warnings, so
a person reads it before anything is applied; *wrong* otherwise (pairs sent on that differ from
the expected ones, or a refusal where pairs were expected, or the reverse): a silent mistake.
Per SpotID line of the expected requests: sent on right, held for a person, or lost/wrong.

`python -m bench --only corpus`; run against another checkout's parser by putting its
directory first on PYTHONPATH (the before figures of issue 16 were taken so).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import Figure
from parsers import NotASpotIDRequest, UnreadableInput, parse_email

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "parsers" / "corpus"


def judge(raw: bytes, want: dict[str, Any]) -> tuple[str, Counter[str]]:
    """("exact" | "held" | "wrong", counts of expected pairs sent right / held / lost)."""
    lines: Counter[str] = Counter()
    expected = [tuple(pair) for pair in want.get("spots", [])]
    try:
        request = parse_email(raw)
    except (NotASpotIDRequest, UnreadableInput) as exc:
        lines["lost"] += len(expected)
        refused = "refused" in want and want["refused"] in str(exc)
        return ("exact" if refused else "wrong"), lines
    got = [(spot.location, spot.spot_id) for spot in request.spots]
    if "refused" in want:
        return ("held" if request.warnings else "wrong"), lines
    if request.warnings:
        lines["held"] += len(expected)
        exact = got == expected and len(request.warnings) == len(want.get("warnings", []))
        return ("exact" if exact else "held"), lines
    lines["right"] += sum(pair in got for pair in expected)
    lines["lost"] += sum(pair not in got for pair in expected)
    lines["wrong"] += sum(pair not in expected for pair in got)
    exact = got == expected and not want.get("warnings")
    return ("exact" if exact else "wrong"), lines


def figures_for(directory: Path) -> tuple[Counter[str], Counter[str]]:
    expected = json.loads((directory / "expected.json").read_text(encoding="utf-8"))
    messages: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    for stem, want in expected.items():
        verdict, counted = judge((directory / f"{stem}.eml").read_bytes(), want)
        messages[verdict] += 1
        lines.update(counted)
    return messages, lines


def measure(*, say: Callable[[str], None] = print) -> list[Figure]:
    figures = []
    for directory in sorted(path.parent for path in CORPUS.glob("*/expected.json")):
        messages, lines = figures_for(directory)
        total = sum(messages.values())
        measured = (
            f"{messages['exact']} exact, {messages['held']} held, {messages['wrong']} wrong of "
            f"{total} messages; SpotID lines: {lines['right']} sent on right, {lines['held']} "
            f"held, {lines['lost'] + lines['wrong']} lost or wrong"
        )
        say(f"corpus {directory.name}: {measured}")
        figures.append(
            Figure(
                f"parser corpus '{directory.name}' ({total} emails)",
                measured,
                "0 wrong",
                messages["wrong"] == 0,
                {"messages": dict(messages), "lines": dict(lines)},
            )
        )
    return figures


if __name__ == "__main__":
    measure()
