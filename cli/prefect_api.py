"""The Prefect API of a command that runs flows: PREFECT_API_URL when it is set (a server of
yours, or `make up`'s exports), otherwise the data dir's shared local server (stack.local)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from settings import settings
from stack.local import local_server


@contextmanager
def prefect_api(*, announce: Callable[[str], None]) -> Iterator[None]:
    """Point Prefect at a server for the block, starting the local one if need be."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value() or "--help" in sys.argv[1:]:  # help needs no server
        yield
        return
    with (
        local_server(settings.data_dir, announce=announce) as api_url,
        temporary_settings(updates={PREFECT_API_URL: api_url}),
    ):
        yield
