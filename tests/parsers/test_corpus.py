"""Every corpus message gives exactly its expected pairs, warnings or refusal.

`corpus/samples` holds the shared samples as given; `corpus/cases` our own real-world
variants. Each directory's expected.json maps a file stem to one of:
  {"spots": [[location, spot_id], ...], "warnings": [substring, ...]}  (no key: no warnings)
  {"refused": substring of the NotASpotIDRequest reason}
plus optional "sender", "sender_name" and "auth" (the failing verdicts its
Authentication-Results headers report, whoever wrote them) checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parsers import NotASpotIDRequest, SpotIDRequest, parse_any, parse_email

CORPUS = Path(__file__).parent / "corpus"


def failing_verdicts(request: SpotIDRequest) -> list[str]:
    found: list[str] = []
    evidence = request.sender_evidence
    for header in evidence.authentication_results if evidence else []:
        for result in header.results:
            verdict = f"{result.method}={result.result}"
            if result.result in ("fail", "softfail") and verdict not in found:
                found.append(verdict)
    return found


def _cases() -> list[Any]:
    params = []
    for expected_file in sorted(CORPUS.glob("*/expected.json")):
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        for stem, want in expected.items():
            path = expected_file.parent / f"{stem}.eml"
            params.append(pytest.param(path, want, id=f"{expected_file.parent.name}/{stem}"))
    return params


def test_every_corpus_file_has_an_expectation() -> None:
    files = {path.stem for path in CORPUS.glob("*/*.eml")}
    expected = {param.values[0].stem for param in _cases()}
    assert files == expected
    assert len(files) >= 70


@pytest.mark.parametrize(("path", "want"), _cases())
def test_corpus_message(path: Path, want: dict[str, Any]) -> None:
    raw = path.read_bytes()
    if "refused" in want:
        with pytest.raises(NotASpotIDRequest, match=want["refused"]):
            parse_email(raw)
        return
    request = parse_email(raw)
    assert [[spot.location, spot.spot_id] for spot in request.spots] == want["spots"]
    expected_warnings = want.get("warnings", [])
    assert len(request.warnings) == len(expected_warnings), request.warnings
    for fragment in expected_warnings:
        assert any(fragment in warning for warning in request.warnings), request.warnings
    assert failing_verdicts(request) == want.get("auth", [])
    for field in ("sender", "sender_name"):
        if field in want:
            assert getattr(request, field) == want[field]
    assert request.source == "email"
    assert request.kind == want.get("kind", "spot_ids")
    assert parse_any(raw) == request
