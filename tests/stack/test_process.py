"""The launcher's processes: each stopped with everything it started, failures in one line."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from stack.process import (
    Service,
    StackError,
    alive,
    check_port_free,
    descendants,
    free_port,
    wait_until,
)

# A child that starts a grandchild in a session of its own (as Prefect's workspace supervisor
# starts flow runs), writes its pid, and waits.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                         start_new_session=True)
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(600)
"""


def test_stop_takes_the_whole_tree_with_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    service = Service(
        "a parent", [sys.executable, "-c", PARENT, str(pid_file)], env=dict(os.environ)
    ).start()
    assert wait_until(pid_file.exists, timeout=60, process=service.process), service.output()
    grandchild = int(pid_file.read_text())
    assert grandchild in descendants(service.pid)

    service.stop()

    assert not alive(service.pid)
    assert wait_until(lambda: not alive(grandchild), timeout=30, process=None)


def test_a_service_that_dies_at_start_fails_in_one_line(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('bad config'); sys.exit(3)"]
    service = Service(
        "the thing", command, env=dict(os.environ), health=f"http://127.0.0.1:{free_port()}/"
    )

    with pytest.raises(StackError) as failure:
        service.start()

    assert str(failure.value) == "the thing exited with code 3: bad config"
    assert not service.running


def test_a_port_in_use_is_refused_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StackError, match=f"^port {port} on 127.0.0.1 is in use: try another$"):
            check_port_free(port, hint="try another")
    check_port_free(port, hint="try another")
