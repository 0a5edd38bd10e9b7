"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from prefect.testing.utilities import prefect_test_harness

from hotspot import throttle
from settings import PROJECT_DIR, settings
from stack.sandbox import SandboxProcess
from store import crud
from store.db import migrate, session_scope
from store.schemas import SeedFile
from tasks.golive import mark_live
from tasks.permits import issue_test_permits
from tasks.validate import validate_spot_ids
from tasks.verify import verify_test_permits
from testing.databases import database
from testing.demo import OPS
from tests.servers.smtp import SmtpCapture

# The tasks that call HotSpot: tests keep their retry policy but not its minutes of waiting.
HOTSPOT_TASKS = (validate_spot_ids, issue_test_permits, verify_test_permits, mark_live)

# Correctness, not speed, on a machine shared with other work: no per-example deadline
# (speed is measured in `make bench`).
hypothesis_settings.register_profile("offstreet", deadline=None)
hypothesis_settings.load_profile("offstreet")

# The real IMAP (Dovecot) and SMTP servers, for every test that asks for them.
pytest_plugins = ["tests.servers.fixtures"]


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    """A temporary Prefect API for the session, so flow runs are recorded as in production."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(autouse=True)
def fresh_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with HotSpot's limit unlearned: what one test taught the process's
    pacer (a sandbox limit, a ceiling) must not slow the next."""
    monkeypatch.setattr(throttle, "_pacers", {})
    monkeypatch.setattr(throttle, "_gates", {})


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxProcess]:
    """One real sandbox process for the whole test session."""
    with SandboxProcess() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxProcess) -> SandboxProcess:
    """The session's sandbox with no permits, no counters and every knob at zero."""
    sandbox_server.reset()
    return sandbox_server


DEMO_COMPANIES = SeedFile.model_validate_json((PROJECT_DIR / "demo/companies.json").read_bytes())


def seed_companies() -> None:
    with session_scope() as session:
        crud.seed_companies(session, companies=DEMO_COMPANIES.companies)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The store on a fresh, migrated database: once on SQLite, once on PostgreSQL."""
    with database(request.param, tmp_path) as url:
        monkeypatch.setattr(settings, "database_url", url)
        monkeypatch.setattr(settings, "data_dir", tmp_path)
        migrate()
        yield url


@pytest.fixture
def any_store(store_url: str) -> str:
    """`store_url` with the demo companies: once on SQLite, once on PostgreSQL."""
    seed_companies()
    return store_url


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite store with the demo companies (Acme Parking, Harbor Lots)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setattr(settings, "database_url", url)
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    migrate()
    seed_companies()
    yield url


@pytest.fixture
def hotspot(sandbox, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The sandbox, with the client and the poller tuned for quick tests."""
    monkeypatch.setattr(settings, "hotspot_api_url", sandbox.url)
    monkeypatch.setattr(settings, "hotspot_backoff_seconds", 0.05)
    monkeypatch.setattr(settings, "hotspot_backoff_max_seconds", 0.5)
    monkeypatch.setattr(settings, "hotspot_max_attempts", 8)
    monkeypatch.setattr(settings, "verify_first_poll_seconds", 0.2)
    monkeypatch.setattr(settings, "verify_max_poll_interval_seconds", 0.5)
    for hotspot_task in HOTSPOT_TASKS:
        monkeypatch.setattr(hotspot_task, "retry_delay_seconds", [0.1, 0.2, 0.4])
    return sandbox


@pytest.fixture
def give_token() -> Callable[[str, str], None]:
    def store_token(company: str, token: str) -> None:
        with session_scope() as session:
            found = crud.get_company_by_name(session, name=company)
            crud.set_company_token(session, company=found, token=token)

    return store_token


@pytest.fixture
def mail(smtp_capture: SmtpCapture, monkeypatch: pytest.MonkeyPatch) -> SmtpCapture:
    """Offstreet's mail (to customers, and ops notices to OPS) sent to the SMTP capture."""
    monkeypatch.setattr(settings, "smtp_host", smtp_capture.host)
    monkeypatch.setattr(settings, "smtp_port", smtp_capture.port)
    monkeypatch.setattr(settings, "smtp_security", "none")
    monkeypatch.setattr(settings, "ops_notify_email", [OPS])
    return smtp_capture
