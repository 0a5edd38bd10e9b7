"""The Prefect API of a command that runs flows: PREFECT_API_URL when it is set (a server of
yours, or `make up`'s exports), otherwise the data dir's shared local server (stack.local)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import typer

from settings import settings
from stack.local import local_server
from stack.process import StackError


@contextmanager
def prefect_api() -> Iterator[None]:
    """Point Prefect at a server for the block, starting the local one if need be; StackError
    (one line) when that cannot be done."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if "--help" in sys.argv[1:]:  # help needs no server
        yield
        return
    if configured := PREFECT_API_URL.value():
        try:  # any answer will do (a server behind authentication refuses /health)
            httpx.get(f"{configured}/health", timeout=10)
        except httpx.TransportError as exc:
            raise StackError(f"PREFECT_API_URL={configured} does not answer: {exc}") from None
        yield
        return
    with (
        local_server(settings.data_dir, announce=say) as api_url,
        temporary_settings(updates={PREFECT_API_URL: api_url}),
    ):
        yield


def say(line: str) -> None:
    """What a command waits for, on stderr (stdout is the command's answer)."""
    typer.echo(line, err=True)
