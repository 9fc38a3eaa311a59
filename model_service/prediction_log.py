"""Durable prediction and feedback log in SQLite (WAL), written by one batching thread.

Why a writer thread: a commit costs far more than a prediction, so requests only append to an in-memory
buffer and one thread commits everything that arrived in the last ``flush_ms`` in one transaction.

Durability guarantee (tested):
* SIGTERM / Ctrl-C: the service stops accepting requests, the buffer is drained and committed before exit,
  so every acknowledged prediction and feedback is in the log.
* kill -9 in ``batched`` mode: rows acknowledged in the last flush interval (``flush_ms`` plus one commit)
  can be lost; what is in the log is always an in-order prefix of what was acknowledged, never a torn row.
* kill -9 in ``sync`` mode: the response is sent only after its rows are committed, so nothing
  acknowledged is lost (at the cost of latency).
* When the buffer holds ``queue_max_rows``, new predictions are refused with 503 instead of being dropped.

Cost per row, on the serving core (measured for issue 18, batches of 100): the buffer is one flat list of
column values, so a request appends its rows with one ``extend`` and the writer hands SQLite slices of it,
``ROWS_PER_INSERT`` rows per statement (~1.6 µs a row instead of ~2.5 µs with ``executemany``: one SQLite
step, and one GIL release, per statement instead of per row; ``PAGE_SIZE`` takes another ~15 %). The index
that lets ``/feedback`` find a row before it is committed is built by ``lookup`` for the rows that arrived
since the previous lookup, instead of by every prediction.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import sqlite3
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from model_service import metrics
from model_service.features import FEATURE_NAMES

_COLUMNS = ("id", "ts", "model_version", *FEATURE_NAMES, "prediction", "latency_ms", "request_id")
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS predictions (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, model_version TEXT NOT NULL,
    {", ".join(f"{n} REAL" for n in FEATURE_NAMES)},
    prediction REAL NOT NULL, latency_ms REAL, request_id TEXT);
CREATE INDEX IF NOT EXISTS predictions_ts ON predictions(ts);
CREATE TABLE IF NOT EXISTS feedback (
    prediction_id TEXT PRIMARY KEY, ts REAL NOT NULL, actual REAL NOT NULL,
    model_version TEXT NOT NULL, prediction REAL NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_ts ON feedback(ts);
"""
_ROW_PARAMS = f"({', '.join('?' * len(_COLUMNS))})"
_INSERT_PRED = f"INSERT OR IGNORE INTO predictions ({', '.join(_COLUMNS)}) VALUES {_ROW_PARAMS}"
WIDTH = len(_COLUMNS)  # values per prediction row
# 2,200 parameters per statement. Fewer statements mean fewer GIL hand-overs between the writer and the event
# loop (SQLite runs each statement with the GIL released); a build of SQLite with a lower parameter limit
# (999 before 3.32) gets as many rows as fit.
ROWS_PER_INSERT = 200
# 16 KiB pages instead of SQLite's 4 KiB: ~15 % less CPU per inserted row (three B-trees grow per row; bigger
# pages split less often), measured on 1.2M-row logs for issue 18. Readers need no setting: it is in the file.
PAGE_SIZE = 16384
_INSERT_FB = ("INSERT OR REPLACE INTO feedback (prediction_id, ts, actual, model_version, prediction) "
              "VALUES (?, ?, ?, ?, ?)")

PredictionRow = tuple  # matches _COLUMNS
FeedbackRow = tuple  # (prediction_id, ts, actual, model_version, prediction)


class LogFull(Exception):
    """The write buffer is full: refuse the request rather than lose a record."""


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the lab's pragmas; readers use this too (e.g. the drift monitor)."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
        # Only takes effect on a new, empty file, and only before WAL mode: an existing log keeps its pages.
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


class PredictionLog:
    def __init__(self, path: Path, flush_ms: int = 50, queue_max_rows: int = 200_000,
                 retention_days: float = 7.0, retention_rows: int = 2_000_000) -> None:
        self.path = Path(path)
        self.flush_s = flush_ms / 1000.0
        self.queue_max_rows = queue_max_rows
        self.retention_s = retention_days * 86400.0
        self.retention_rows = retention_rows
        # Prediction rows as one flat list of values (row after row, WIDTH values each), in arrival order.
        self._preds: list[object] = []
        self._fbs: list[FeedbackRow] = []
        self._waiters: list[Future[None]] = []
        # Rows not yet committed are in ``_preds`` (waiting) or ``_inflight`` (being committed). ``lookup``
        # indexes them lazily: ``_index`` covers the first ``_indexed`` values of each list.
        self._inflight: list[object] = []
        self._index: dict[str, tuple[str, float]] = {}
        self._indexed = [0, 0]  # values of _preds, values of _inflight
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._healthy = True
        self._reader: sqlite3.Connection | None = None
        self._reader_lock = threading.Lock()

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        writer = connect(self.path)
        writer.executescript(SCHEMA)
        writer.commit()
        self._reader = connect(self.path)
        self._thread = threading.Thread(target=self._run, args=(writer,), name="prediction-log",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Drain and commit everything, then stop. Called on graceful shutdown."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        if self._reader is not None:
            self._reader.close()

    @property
    def healthy(self) -> bool:
        return self._healthy and self._thread is not None and self._thread.is_alive()

    def depth(self) -> int:
        """Rows waiting for the writer (predictions and feedback)."""
        return len(self._preds) // WIDTH + len(self._fbs)

    # --- writing (event-loop side) -------------------------------------------------------------
    def append_predictions(self, rows: list[PredictionRow], wait: bool = False) -> Future[None] | None:
        """Queue rows (each with every column of ``_COLUMNS``, in order); with ``wait`` returns a future that
        completes once they are committed. A malformed row is refused here, not by the writer thread."""
        for r in rows:
            if len(r) != WIDTH:
                raise ValueError(f"a prediction-log row has {len(r)} values, expected {WIDTH}: {_COLUMNS}")
        return self.append_values(list(itertools.chain.from_iterable(rows)), wait)

    def append_values(self, values: list[object], wait: bool = False) -> Future[None] | None:
        """``append_predictions`` for rows already laid end to end (WIDTH values each): the request path."""
        if len(values) % WIDTH:
            raise ValueError(f"{len(values)} values are not whole prediction-log rows of {WIDTH}: {_COLUMNS}")
        with self._lock:
            if (len(self._preds) + len(values)) // WIDTH > self.queue_max_rows:
                raise LogFull(f"prediction log backlog is full ({self.queue_max_rows} rows)")
            self._preds += values
            fut = self._waiter() if wait else None
            size = len(self._preds)
        if wait or size >= 5000 * WIDTH:
            self._wake.set()
        return fut

    def append_feedback(self, row: FeedbackRow, wait: bool = False) -> Future[None] | None:
        with self._lock:
            self._fbs.append(row)
            fut = self._waiter() if wait else None
        if wait:
            self._wake.set()
        return fut

    def _waiter(self) -> Future[None]:
        fut: Future[None] = Future()
        self._waiters.append(fut)
        return fut

    def lookup(self, prediction_id: str) -> tuple[str, float] | None:
        """(model_version, prediction) of a logged or still-buffered prediction."""
        with self._lock:
            for i, values in enumerate((self._preds, self._inflight)):
                if self._indexed[i] < len(values):
                    new = values[self._indexed[i]:]
                    self._index.update(zip(new[0::WIDTH], zip(new[2::WIDTH], new[WIDTH - 3::WIDTH], strict=True),
                                           strict=True))
                    self._indexed[i] = len(values)
            hit = self._index.get(prediction_id)
        if hit is not None:
            return hit
        assert self._reader is not None
        with self._reader_lock:
            row = self._reader.execute("SELECT model_version, prediction FROM predictions WHERE id = ?",
                                       (prediction_id,)).fetchone()
        return (row[0], row[1]) if row else None

    # --- writer thread -------------------------------------------------------------------------
    def _run(self, conn: sqlite3.Connection) -> None:
        last_retention = 0.0
        while True:
            stopping = self._stop.is_set()
            if not stopping:  # when closing, drain at once instead of sleeping one more flush interval
                self._wake.wait(self.flush_s)
            self._wake.clear()
            with self._lock:
                preds, self._preds = self._preds, []
                fbs, self._fbs = self._fbs, []
                waiters, self._waiters = self._waiters, []
                self._inflight = preds
                self._indexed = [0, self._indexed[0]]
            if preds or fbs:
                self._commit(conn, preds, fbs, waiters)
            else:
                for w in waiters:
                    w.set_result(None)
            now = time.time()
            if now - last_retention > 60:
                last_retention = now
                self._apply_retention(conn, now)
            if stopping and not (self._preds or self._fbs):
                break
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()

    def _commit(self, conn: sqlite3.Connection, preds: list[object], fbs: list[FeedbackRow],
                waiters: list[Future[None]]) -> None:
        started = time.perf_counter()
        for attempt in range(1, 6):
            try:
                with conn:
                    _insert_predictions(conn, preds)
                    conn.executemany(_INSERT_FB, fbs)
                break
            except sqlite3.Error:
                # Locked or I/O trouble: keep the rows and retry; they are never dropped silently.
                metrics.LOG_WRITE_ERRORS.inc()
                self._healthy = False
                time.sleep(min(0.1 * attempt, 0.5))
        else:
            with self._lock:  # give the rows back; the next cycle retries them first
                self._preds[:0] = preds
                self._fbs[:0] = fbs
                self._waiters[:0] = waiters
                self._forget_inflight()
            return
        self._healthy = True
        metrics.LOG_COMMIT_SECONDS.observe(time.perf_counter() - started)
        metrics.LOG_ROWS_WRITTEN.labels("predictions").inc(len(preds) // WIDTH)
        metrics.LOG_ROWS_WRITTEN.labels("feedback").inc(len(fbs))
        with self._lock:
            self._forget_inflight()
        for w in waiters:
            w.set_result(None)

    def _forget_inflight(self) -> None:
        """The in-flight rows are committed (or back in ``_preds``): drop them and re-index lazily."""
        self._inflight = []
        self._index.clear()
        self._indexed = [0, 0]

    def _apply_retention(self, conn: sqlite3.Connection, now: float) -> None:
        try:
            with conn:
                cutoff = now - self.retention_s
                conn.execute("DELETE FROM predictions WHERE ts < ?", (cutoff,))
                conn.execute("DELETE FROM feedback WHERE ts < ?", (cutoff,))
                conn.execute("DELETE FROM predictions WHERE rowid <= (SELECT MAX(rowid) FROM predictions) - ?",
                             (self.retention_rows,))
        except sqlite3.Error:
            metrics.LOG_WRITE_ERRORS.inc()


@functools.cache
def _insert_many(rows: int) -> str:
    return _INSERT_PRED + (", " + _ROW_PARAMS) * (rows - 1)


def _insert_predictions(conn: sqlite3.Connection, values: list[object]) -> None:
    """``ROWS_PER_INSERT`` rows per statement, the remainder one by one (whole rows were checked on append)."""
    rows = min(ROWS_PER_INSERT, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // WIDTH)
    step = rows * WIDTH
    whole = len(values) - len(values) % step
    sql = _insert_many(rows)
    for start in range(0, whole, step):
        conn.execute(sql, values[start:start + step])
    if whole < len(values):
        conn.executemany(_INSERT_PRED, [values[i:i + WIDTH] for i in range(whole, len(values), WIDTH)])


async def wait_committed(fut: Future[None] | None) -> None:
    if fut is not None:
        await asyncio.wrap_future(fut)
