"""What an operator (or a cleanup job) does to the prediction log's files under a running service, shared by the
unit tests and the tests on the real service."""

from __future__ import annotations

import os
import time
from pathlib import Path

SUFFIXES = ("", "-wal", "-shm")  # rm -f predictions.db*
SIDECARS = ("-wal", "-shm")


def remove(db: Path, suffixes: tuple[str, ...] = SUFFIXES) -> None:
    """``rm -f predictions.db*`` (or only the named files), as the SRE did."""
    for suffix in suffixes:
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def remove_and_block(db: Path, timeout: float = 10.0) -> None:
    """Remove the files and leave a directory at the path, which SQLite cannot open.

    Why not ``remove`` then ``mkdir``: the running writer recreates the file as soon as it sees it gone, and
    when it does so between the two, ``mkdir`` fails (``FileExistsError``). Renaming a prepared empty directory
    onto the path is atomic and only succeeds if nothing is there; if the writer won the race, the removal is
    repeated (its rows are then in the writer's new file, so nothing is lost either way). Making the directory
    read-only instead would not block anything when the tests run as root."""
    blocker = db.with_name(db.name + ".blocker")
    blocker.mkdir()
    deadline = time.monotonic() + timeout
    while True:
        remove(db)
        try:
            os.rename(blocker, db)
            return
        except OSError:  # the writer recreated the file in between (ENOTDIR): remove it again
            if time.monotonic() > deadline:
                blocker.rmdir()
                raise
