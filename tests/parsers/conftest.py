"""Parser tests are pure: they need none of the session's servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    """Override the suite-wide Prefect test server: parsers never touch Prefect."""
    yield
