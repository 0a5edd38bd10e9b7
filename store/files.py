"""Files in the data dir (the SQLite store, keys, logs): private to the user that runs us.

Directories are created 0700 and files 0600 from the start, never tightened afterwards, so
there is no moment when another user of the machine could read a raw email or a key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def private_dir(path: Path) -> Path:
    """The directory, created 0700 (with any missing parents) if it does not exist."""
    missing = [directory for directory in (path, *path.parents) if not directory.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """The file, created empty and 0600 (in a private directory) if it does not exist."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    return path


def generated_key(path: Path, make: Callable[[], str]) -> str:
    """The key kept in `path`, made once by `make`; if two processes race, the first wins."""
    if not path.exists():
        private_dir(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
    return path.read_text().strip()
