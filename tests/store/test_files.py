"""The data dir: the working directory's `.data/`, created 0700, every file in it 0600."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from cli.up import background
from settings import PROJECT_DIR

CLI = Path(sys.executable).with_name("hotspot-onboard")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_commands_keep_their_files_private_in_the_working_directory(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("OFFSTREET_")}

    def run(*args: str, stdin: str = "") -> None:
        result = subprocess.run(
            [str(CLI), *args], env=env, cwd=tmp_path, input=stdin, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr

    run("seed", str(PROJECT_DIR / "demo/companies.json"))
    run("token", "Acme Parking", stdin="a-company-token\n")  # makes secret.key
    run("form-link", "Acme Parking")  # makes form-link.key

    data = tmp_path / ".data"
    assert mode(data) == 0o700
    # A connection left open keeps the WAL and shared-memory files, as a running server does.
    connection = sqlite3.connect(data / "offstreet.db")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE probe (x)")
    try:
        files = {path.name: mode(path) for path in data.iterdir()}
    finally:
        connection.close()
    assert {"offstreet.db", "offstreet.db-wal", "offstreet.db-shm", "secret.key"} <= set(files)
    assert "form-link.key" in files
    assert set(files.values()) == {0o600}, files


def test_logs_of_the_stack_are_private(tmp_path: Path) -> None:
    log = tmp_path / "data" / "logs" / "worker-1.log"
    with background(["true"], env=dict(os.environ), log=log):
        pass
    assert mode(tmp_path / "data") == mode(log.parent) == 0o700
    assert mode(log) == 0o600
