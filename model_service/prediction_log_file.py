"""Notice that the prediction log's database file was removed or replaced under the running service, and put
every row it held back at its path.

Why (issue 14, item 1): SQLite keeps writing into a file that was unlinked (``rm -f .lab/predictions.db*``),
so the service stays ready while everything it writes -- and everything the file held -- is lost at the
next restart, which creates an empty database. But the writer's open connection can still read the unlinked
file, so the rows are not gone yet: ``copy_rows`` copies every one of them, through that connection, into
the file now at the path (ATTACH + ``INSERT OR IGNORE``, in the old file's order), after which the writer
switches to the new file. A file put in its place (a restored copy) keeps its own rows and gains ours.

When no new file can be made (the directory read-only, a directory or a foreign file in the way), the log is
*detached*: the writer keeps what it holds, the service refuses new rows with 503 and is not ready, and the
recovery is tried again every ``RETRY_S``. Acknowledging rows that could only go into a deleted file would lose
them silently at the next restart.

Only the ``-wal``/``-shm`` files removed (``rm predictions.db-wal predictions.db-shm``, or the leftovers of a
removal after the recovery already happened): the writer would keep committing into a WAL nobody else can find,
other processes get ``disk I/O error``, and after a crash the file at the path lacks every row not yet
checkpointed. So the writer checkpoints the whole WAL into the main file through its own connection (which still
reaches the unlinked WAL), closes every connection to it and opens new ones at the path (new sidecars).

The check is three ``os.stat`` per writer cycle (~2 µs each flush interval), compared with the device and
inode of the file and of each sidecar the writer opened. Not detected: a file copied *over* the database
(``cp backup.db predictions.db`` keeps the inode); restore with ``mv``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from model_service import metrics
from model_service.prediction_log_failures import FailureReport
from model_service.prediction_log_schema import BATCH_COLUMNS, FB_COLUMNS, connect, open_writer

log = logging.getLogger("aiops.service.prediction_log")

FileId = tuple[int, int]  # (st_dev, st_ino): which file a path names
SIDECARS = ("-wal", "-shm")  # WAL mode's companion files, named after the database
RETRY_S = 1.0  # while the file cannot be recreated, try again this often
RUNBOOK = "runbooks/ModelServicePredictionLogFileLost.md"


def file_id(path: Path) -> FileId | None:
    """The identity of the file at ``path``, or None when nothing is there (or it cannot be looked at: then the
    recovery says why, instead of the writer thread dying on it)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def copy_rows(old: sqlite3.Connection, path: Path) -> dict[str, int]:
    """Copy every prediction and feedback row that ``old``'s main database holds into the database at ``path``
    (which must already have the tables); a request or feedback whose key (its ids, its prediction id) the
    target already has is kept as the target has it. Copied requests are numbered on after the target's own
    (``seq``), in the old file's order. One transaction, so the target gets all of them or none. Returns the
    rows copied per table (``predictions``: the predictions, not the requests)."""
    old.execute("ATTACH DATABASE ? AS recovered", (str(path),))
    try:
        with old:
            old.execute("BEGIN IMMEDIATE")
            total = "SELECT COALESCE(SUM(n), 0), COALESCE(MAX(seq), 0) FROM recovered.prediction_batches"
            before, base = old.execute(total).fetchone()
            others = ", ".join(c for c in BATCH_COLUMNS if c != "seq")
            old.execute(f"INSERT OR IGNORE INTO recovered.prediction_batches (seq, {others}) "
                        f"SELECT ? + SUM(n) OVER (ORDER BY seq), {others} FROM main.prediction_batches ORDER BY seq",
                        (base,))
            names = ", ".join(FB_COLUMNS)
            feedback = old.execute(f"INSERT OR IGNORE INTO recovered.feedback ({names}) "
                                   f"SELECT {names} FROM main.feedback ORDER BY rowid").rowcount
            after, _ = old.execute(total).fetchone()
        return {"predictions": after - before, "feedback": feedback}
    finally:
        old.execute("DETACH DATABASE recovered")


class LogFile:
    """The database file the writer thread writes, followed when it is removed or replaced (writer thread only,
    except ``detached``, which request handlers read)."""

    def __init__(self, path: Path, busy_timeout_ms: int, failures: FailureReport,
                 swap_reader: Callable[[sqlite3.Connection | None], None]) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.detached: str | None = None  # why there is nowhere safe to write, while that lasts
        self._failures = failures
        self._swap_reader = swap_reader  # gives the log's reader a connection to the new file (None: closes it)
        self._id: FileId | None = None
        self._sidecars: dict[str, FileId | None] = {}
        self._retry_at = 0.0
        self._closed = False  # the writer's connection was closed by ``_reopen``, which then failed

    def open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = open_writer(self.path, self.busy_timeout_ms)
        self._remember()
        return conn

    def _remember(self) -> None:
        self._id = file_id(self.path)
        self._sidecars = {s: file_id(self._sidecar(s)) for s in SIDECARS}

    def _sidecar(self, suffix: str) -> Path:
        return self.path.with_name(self.path.name + suffix)

    def follow(self, conn: sqlite3.Connection | None, rows_waiting: Callable[[], int],
               now: bool = False) -> sqlite3.Connection | None:
        """The connection to write with: ``conn`` while the files at the path are the ones it has open; once
        the file was removed or replaced, a connection to a new file at the path holding every row of the old;
        once only its sidecars were, a new connection to the same file with every row checkpointed into it.
        While that cannot be made, ``detached`` is set and the result is ``conn`` (None if it had to be closed:
        see ``_reopen``); ``now`` retries at once."""
        main = file_id(self.path)
        if main == self._id and self._sidecars_intact():
            self.detached = None  # (moved away and back: the same file again)
            return conn
        if self.detached is None:
            metrics.LOG_FILE_REPLACED.inc()
        elif time.monotonic() < self._retry_at and not now:
            return conn
        try:
            if conn is not None and main != self._id:
                fresh, copied = self._recover(conn)
                what = (f"was removed or replaced under the running service; copied the {copied['predictions']} "
                        f"predictions and {copied['feedback']} feedback rows it held into a new file there")
            else:
                fresh, copied = self._reopen(conn), {}
                what = ("lost its -wal/-shm files under the running service; checkpointed every row into the "
                        "database file and reopened it")
        except (sqlite3.Error, OSError) as exc:
            metrics.LOG_RECOVERIES.labels("failed").inc()
            self._failures.failed("recovery", exc, rows_waiting())
            self.detached = (f"the database file {self.path} was removed or replaced under the running service "
                             f"and could not be recreated ({exc}); see {RUNBOOK}")
            self._retry_at = time.monotonic() + RETRY_S
            return None if self._closed else conn
        metrics.LOG_RECOVERIES.labels("copied").inc()
        self._failures.succeeded("recovery")
        self.detached = None
        log.warning(f"prediction log file {self.path} {what}", extra={"path": str(self.path), "copied": copied})
        return fresh

    def _sidecars_intact(self) -> bool:
        """Each sidecar that existed when the writer opened the file is still the one at its name."""
        return all(ours is None or file_id(self._sidecar(suffix)) == ours for suffix, ours in self._sidecars.items())

    def _reopen(self, old: sqlite3.Connection | None) -> sqlite3.Connection:
        """The same database file, reopened with new sidecars, once every committed row is in the file itself.

        Every connection of this process to the file must be closed before a new one is opened: SQLite shares
        one shared-memory index per file (device and inode) inside a process, so a new connection would keep
        using the unlinked one. ``old`` is closed even if reopening then fails (the rows are safe in the file
        by then): ``_closed`` says so, and the next attempt only reopens."""
        if old is not None:
            busy, _, _ = old.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                raise sqlite3.OperationalError("could not checkpoint the WAL into the database file: a reader "
                                               "held it past the busy timeout")
            self._swap_reader(None)
            old.close()
            self._closed = True
        fresh = open_writer(self.path, self.busy_timeout_ms)
        try:
            self._swap_reader(connect(self.path))
        except BaseException:
            fresh.close()
            raise
        self._closed = False
        self._remember()
        return fresh

    def _recover(self, old: sqlite3.Connection) -> tuple[sqlite3.Connection, dict[str, int]]:
        """A new file at the path holding every row ``old`` can still read; then the reader moves there too."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Only the main file removed or replaced: our WAL and shared-memory files are still at the path, and a
        # new file opened there would read the old file's pages from them. They are ours (same inode); our
        # connections keep them open, so unlinking the names loses nothing. A replacement's own are kept.
        for suffix, ours in self._sidecars.items():
            if ours is not None and file_id(self._sidecar(suffix)) == ours:
                self._sidecar(suffix).unlink()
        fresh = open_writer(self.path, self.busy_timeout_ms)
        try:
            copied = copy_rows(old, self.path)
            reader = connect(self.path)
        except BaseException:
            fresh.close()
            raise
        self._remember()
        old.close()
        self._swap_reader(reader)
        return fresh, copied
