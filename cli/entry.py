"""The `hotspot-onboard` executable: settings that refuse to start say why, one line each.

Settings are read when `settings` is first imported; a refusal there would otherwise end in a
traceback before the command line even exists.
"""

from __future__ import annotations

import sys

from pydantic import ValidationError


def settings_refusals(exc: ValidationError) -> list[str]:
    """One line per refused setting: our validators' own words, or the variable and why."""
    lines: list[str] = []
    for error in exc.errors(include_input=False, include_url=False):
        if error["type"] == "value_error":
            lines += str(error["ctx"]["error"]).splitlines()
        else:
            lines.append(f"{'.'.join(map(str, error['loc']))}: {error['msg']}")
    return lines


def main() -> None:
    """Run the command line, or exit 2 with the settings' refusal (never a traceback)."""
    try:
        from cli.main import app
    except ValidationError as exc:
        for line in settings_refusals(exc):
            print(f"hotspot-onboard: {line}", file=sys.stderr)
        raise SystemExit(2) from None
    app()
