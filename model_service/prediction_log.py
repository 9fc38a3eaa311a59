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
* The database file removed or replaced under the running service (``rm .lab/predictions.db*``): the writer
  notices within one flush interval (within ``IDLE_CHECK_S`` while no row is waiting), copies every row the
  removed file still holds (through its open connection) into a new file at the same path, and writes on
  there; nothing acknowledged is lost (only its
  ``-wal``/``-shm`` removed: every row is checkpointed into the file, which is reopened). If no new file can be
  made, new rows get 503 and the service is not ready until it can (``prediction_log_file``); sync-mode
  requests already waiting get the 503 too. A sync answer waits until its rows are in the file at the path.
* Failed writes are logged once per kind with SQLite's message, then counted (``prediction_log_failures``);
  ``depth()`` counts every row not yet committed, the batch being retried included.

Cost per request, on the serving core (issue 18): a request appends one tuple (its rows, predictions and ids
as prefix + first counter) and the writer stores it as one row of ``prediction_batches`` (its rows as one JSON
text, ``prediction_log_schema``), ``ROWS_PER_INSERT`` requests per statement: one SQLite step and one GIL
release per statement. For batches of 100 the writer thread then spends 64-115 µs a request in the server,
against 137-192 µs for a table row per prediction (benchmarks/PROFILE.md, round 5). The index that lets
``/feedback`` find a row before it is committed is built by ``lookup`` for the rows that arrived since the
previous lookup, instead of by every prediction.

Idle cost: while nothing is waiting to be written, the writer sleeps until the first row arrives (its flush
interval starts then) or ``IDLE_CHECK_S`` passes (to follow the file and apply retention), instead of waking
every ``flush_ms``. Twenty empty cycles a second cost an idle lab's service ~6 ms of CPU a second on this
project's VMs (each wake-up ~0.3 ms: timers, ``stat`` calls and the GIL on a cold cache), as much as the rest of
the service together; one a second costs ~0.3 ms. A row's worst-case wait for its commit is unchanged: one flush
interval plus one commit.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from model_service import metrics
from model_service.prediction_log_failures import FailureReport
from model_service.prediction_log_file import LogFile
from model_service.prediction_log_schema import (
    BATCH_COLUMNS,
    COLUMNS,
    FB_COLUMNS,
    OWN_ID,
    PAGE_SIZE,
    SCHEMA,
    WIDTH,
    connect,
    encode_rows,
    find,
)

__all__ = ["PAGE_SIZE", "ROWS_PER_INSERT", "SCHEMA", "WIDTH", "Batch", "LogDetached", "LogFull", "LogRefused",
           "PredictionLog", "connect", "wait_committed"]

log = logging.getLogger("aiops.service.prediction_log")

_ROW_PARAMS = f"({', '.join('?' * len(BATCH_COLUMNS))})"
_INSERT_PRED = f"INSERT OR IGNORE INTO prediction_batches ({', '.join(BATCH_COLUMNS)}) VALUES {_ROW_PARAMS}"
# 1,800 parameters per statement. Fewer statements mean fewer GIL hand-overs between the writer and the event
# loop (SQLite runs each statement with the GIL released); a build of SQLite with a lower parameter limit
# (999 before 3.32) gets as many requests as fit.
ROWS_PER_INSERT = 200  # requests (``prediction_batches`` rows) per INSERT statement
ENCODED_ROWS_PER_STATEMENT = 1000  # predictions encoded before their statement runs (``_insert_predictions``)
IDLE_CHECK_S = 1.0  # while idle, the writer still follows the file and applies retention this often
_INSERT_FB = f"INSERT OR REPLACE INTO feedback ({', '.join(FB_COLUMNS)}) VALUES (?, ?, ?, ?, ?)"

PredictionRow = tuple  # matches COLUMNS
FeedbackRow = tuple  # (prediction_id, ts, actual, model_version, prediction)
# One request's predictions: (id prefix, first counter or OWN_ID, row count, ts, model_version, the rows'
# features, their predictions, latency_ms, request_id); the ids are prefix + "%x" % (first + i).
Batch = tuple[str, int, int, float, str, list, list, float | None, str | None]


class LogRefused(Exception):
    """The log cannot take the request's rows without risking them: answer 503, never lose them silently."""


class LogFull(LogRefused):
    """The write buffer is full: refuse the request rather than lose a record."""


class LogDetached(LogRefused):
    """The database file was removed or replaced and could not be recreated: nowhere safe to write."""


class PredictionLog:
    def __init__(self, path: Path, flush_ms: int = 50, queue_max_rows: int = 200_000,
                 retention_days: float = 7.0, retention_rows: int = 2_000_000,
                 busy_timeout_ms: int = 5000) -> None:
        """``busy_timeout_ms``: how long one commit waits for another process's lock before it counts as a
        failed attempt (and is logged)."""
        self.path = Path(path)
        self.flush_s = flush_ms / 1000.0
        self.queue_max_rows = queue_max_rows
        self.retention_s = retention_days * 86400.0
        self.retention_rows = retention_rows
        # Requests' predictions (``Batch``), in arrival order; ``_pending`` counts their rows.
        self._preds: list[Batch] = []
        self._pending = 0
        self._fbs: list[FeedbackRow] = []
        self._waiters: list[Future[None]] = []
        # Rows not yet committed are in ``_preds`` (waiting) or ``_inflight`` (being committed). ``lookup``
        # indexes them lazily: ``_index`` covers the first ``_indexed`` batches of each list.
        self._inflight: list[Batch] = []
        self._inflight_rows = 0
        self._inflight_fbs = 0  # feedback rows being committed (for depth())
        self._index: dict[str, tuple[str, float]] = {}
        self._indexed = [0, 0]  # batches of _preds, batches of _inflight
        self._lock = threading.Lock()
        self._wake = threading.Event()  # commit now: a sync-mode waiter, a big buffer, or closing
        self._arrived = threading.Event()  # the first row (or feedback) since the writer took the buffer
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._healthy = True
        self._reader: sqlite3.Connection | None = None
        self._reader_lock = threading.Lock()
        self._failures = FailureReport()
        self._file = LogFile(self.path, busy_timeout_ms, self._failures, self._swap_reader)

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        writer = self._file.open()
        self._reader = connect(self.path)
        self._thread = threading.Thread(target=self._run, args=(writer,), name="prediction-log",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Drain and commit everything, then stop. Called on graceful shutdown. Every request still waiting for
        its rows gets an answer: what could not be committed fails (503) instead of hanging."""
        self._stop.set()
        self._wake.set()
        self._arrived.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self._fail_waiters(LogRefused(f"the prediction log closed before these rows were written to {self.path}"))
        if self._reader is not None:
            self._reader.close()

    @property
    def healthy(self) -> bool:
        return (self._healthy and self._file.detached is None and self._thread is not None
                and self._thread.is_alive())

    @property
    def problem(self) -> str | None:
        """Why the log is not writable, for /readyz: the lost file, or the write that last failed."""
        if self._file.detached is not None:
            return self._file.detached
        if not self._healthy:
            return self._failures.error("commit")
        if self._thread is None or not self._thread.is_alive():
            return "the prediction-log writer thread is not running"
        return None

    def depth(self) -> int:
        """Rows not yet committed (predictions and feedback): waiting, and the batch being committed or retried."""
        with self._lock:
            return self._pending + self._inflight_rows + len(self._fbs) + self._inflight_fbs

    # --- writing (event-loop side) -------------------------------------------------------------
    def append_predictions(self, rows: list[PredictionRow], wait: bool = False) -> Future[None] | None:
        """Queue rows with any ids (each with every column of ``COLUMNS``, in order), each kept as a batch of
        one; with ``wait`` returns a future that completes once they are committed. A malformed row is refused
        here, not by the writer thread. The request path uses ``append_batch``."""
        batches: list[Batch] = []
        for r in rows:
            if len(r) != WIDTH:
                raise ValueError(f"a prediction-log row has {len(r)} values, expected {WIDTH}: {COLUMNS}")
            pid, ts, version, *rest = r
            batches.append((str(pid), OWN_ID, 1, ts, version, [rest[:-3]], [rest[-3]], rest[-2], rest[-1]))
        return self._append(batches, len(batches), wait)

    def append_batch(self, prefix: str, first: int, ts: float, version: str, rows: list, preds: list,
                     latency_ms: float | None, request_id: str | None, wait: bool = False) -> Future[None] | None:
        """Queue one request's predictions: ``rows[i]`` (features in ``FEATURE_NAMES`` order) predicted
        ``preds[i]`` under the id ``prefix + "%x" % (first + i)``. The lists are the log's from now on."""
        if len(rows) != len(preds) or first < 0:
            raise ValueError(f"a prediction batch needs one prediction per row and a counter >= 0, got "
                             f"{len(rows)} rows, {len(preds)} predictions, first {first}")
        return self._append([(prefix, first, len(rows), ts, version, rows, preds, latency_ms, request_id)],
                            len(rows), wait)

    def backlogged(self) -> bool:
        """More than half of ``queue_max_rows`` waiting: the request path lets the writer catch up (one core
        can accept rows faster than the writer, which shares it and the GIL, commits them)."""
        return self._pending > self.queue_max_rows // 2

    def _append(self, batches: list[Batch], rows: int, wait: bool) -> Future[None] | None:
        if self._file.detached is not None:
            raise LogDetached(self._file.detached)
        with self._lock:
            if self._pending + rows > self.queue_max_rows:
                raise LogFull(f"prediction log backlog is full ({self.queue_max_rows} rows)")
            first = not self._preds
            self._preds += batches
            self._pending += rows
            fut = self._waiter() if wait else None
            size = self._pending
        if first:
            self._arrived.set()
        if wait or size >= 5000:
            self._wake.set()
        return fut

    def append_feedback(self, row: FeedbackRow, wait: bool = False) -> Future[None] | None:
        if self._file.detached is not None:
            raise LogDetached(self._file.detached)
        with self._lock:
            first = not self._fbs
            self._fbs.append(row)
            fut = self._waiter() if wait else None
        if first:
            self._arrived.set()
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
            for i, batches in enumerate((self._preds, self._inflight)):
                for prefix, first, _, _, version, _, preds, _, _ in batches[self._indexed[i]:]:
                    if first == OWN_ID:
                        self._index[prefix] = (version, preds[0])
                    else:
                        self._index.update((f"{prefix}{c:x}", (version, p)) for c, p in enumerate(preds, first))
                self._indexed[i] = len(batches)
            hit = self._index.get(prediction_id)
        if hit is not None:
            return hit
        with self._reader_lock:
            if self._reader is None:  # the writer is reopening the file (its sidecars were removed)
                raise LogDetached(self._file.detached or f"the prediction log is reopening {self.path}")
            return find(self._reader, prediction_id)

    # --- writer thread -------------------------------------------------------------------------
    def _run(self, conn: sqlite3.Connection | None) -> None:
        last_retention = 0.0
        while True:
            stopping = self._stop.is_set()
            if not stopping:  # when closing, drain at once instead of sleeping one more flush interval
                self._sleep()
            self._wake.clear()
            conn = self._file.follow(conn, self.depth, now=stopping)
            if conn is None or self._file.detached is not None:
                # Nowhere safe to write: keep the rows until the file is back, but answer the requests waiting
                # for theirs now (503 naming the cause) instead of leaving them hanging until then.
                self._fail_waiters(LogDetached(self._file.detached or "no database file"))
                if stopping:
                    log.error(f"prediction log: {self._file.detached}; exiting without saving {self.depth()} "
                              "buffered rows and the rows of the removed file")
                    break
                continue
            with self._lock:
                preds, self._preds = self._preds, []
                self._inflight_rows, self._pending = self._pending, 0
                fbs, self._fbs = self._fbs, []
                waiters, self._waiters = self._waiters, []
                self._arrived.clear()  # (under the lock: the next append into the empty buffer sets it again)
                self._inflight = preds
                self._inflight_fbs = len(fbs)
                self._indexed = [0, self._indexed[0]]
            if (preds or fbs) and not self._commit(conn, preds, fbs, waiters):
                waiters = []  # given back with their rows, for the next cycle
            if waiters:
                # In sync mode an answer promises the rows survive kill -9: if the file was removed while they
                # were committed, they are only in the unlinked file until copied to the path. Copy first.
                conn = self._file.follow(conn, self.depth, now=True)
                self._resolve(waiters, self._file.detached)
                if conn is None:
                    continue
            now = time.time()
            if now - last_retention > 60:
                last_retention = now
                self._apply_retention(conn, now)
            if stopping and not (self._preds or self._fbs):
                break
        self._fail_waiters(LogDetached(self._file.detached or "the prediction log stopped"))
        if conn is None:
            return
        if self._file.detached is None:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()

    def _sleep(self) -> None:
        """Until the next cycle is due: one flush interval while rows wait (or until ``_wake``); while the buffer
        is empty, first until a row arrives or ``IDLE_CHECK_S`` passes, then that row's flush interval."""
        with self._lock:
            idle = not (self._preds or self._fbs or self._waiters)
        if idle and not self._arrived.wait(IDLE_CHECK_S):
            return  # still idle: follow the file and check retention, then sleep again
        self._wake.wait(self.flush_s)

    def _fail_waiters(self, exc: LogRefused) -> None:
        """Fail every request still waiting for its rows (they stay buffered and are written once possible)."""
        with self._lock:
            waiters, self._waiters = self._waiters, []
        self._resolve(waiters, str(exc), type(exc))

    @staticmethod
    def _resolve(waiters: list[Future[None]], problem: str | None,
                 error: type[LogRefused] = LogDetached) -> None:
        for w in waiters:
            if w.done():
                continue
            if problem is None:
                w.set_result(None)
            else:
                w.set_exception(error(problem))

    def _swap_reader(self, reader: sqlite3.Connection | None) -> None:
        """Lookups read the new file from now on (the file was recreated or reopened by the writer)."""
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
            self._reader = reader

    def _commit(self, conn: sqlite3.Connection, preds: list[Batch], fbs: list[FeedbackRow],
                waiters: list[Future[None]]) -> bool:
        """Whether the rows were committed; if not, they and their ``waiters`` are back in the buffer."""
        started = time.perf_counter()
        for attempt in range(1, 6):
            try:
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    _insert_predictions(conn, preds)
                    conn.executemany(_INSERT_FB, fbs)
                break
            except sqlite3.Error as exc:
                # Locked or I/O trouble: keep the rows and retry; they are never dropped silently.
                metrics.LOG_WRITE_ERRORS.inc()
                self._healthy = False
                self._failures.failed("commit", exc, self.depth())
                time.sleep(min(0.1 * attempt, 0.5))
        else:
            with self._lock:  # give the rows back; the next cycle retries them first
                self._preds[:0] = preds
                self._pending += self._inflight_rows
                self._fbs[:0] = fbs
                self._waiters[:0] = waiters
                self._forget_inflight()
            return False
        self._healthy = True
        self._failures.succeeded("commit")
        metrics.LOG_COMMIT_SECONDS.observe(time.perf_counter() - started)
        metrics.LOG_ROWS_WRITTEN.labels("predictions").inc(self._inflight_rows)
        metrics.LOG_ROWS_WRITTEN.labels("feedback").inc(len(fbs))
        with self._lock:
            self._forget_inflight()
        return True

    def _forget_inflight(self) -> None:
        """The in-flight rows are committed (or back in ``_preds``): drop them and re-index lazily."""
        self._inflight = []
        self._inflight_rows = 0
        self._inflight_fbs = 0
        self._index.clear()
        self._indexed = [0, 0]

    def _apply_retention(self, conn: sqlite3.Connection, now: float) -> None:
        try:
            with conn:
                cutoff = now - self.retention_s
                conn.execute("DELETE FROM prediction_batches WHERE ts < ?", (cutoff,))
                conn.execute("DELETE FROM feedback WHERE ts < ?", (cutoff,))
                # Whole requests: a request with rows on both sides of the limit is kept.
                conn.execute("DELETE FROM prediction_batches "
                             "WHERE seq <= (SELECT MAX(seq) FROM prediction_batches) - ?", (self.retention_rows,))
        except sqlite3.Error as exc:
            metrics.LOG_WRITE_ERRORS.inc()
            self._failures.failed("retention", exc, self.depth())
            return
        self._failures.succeeded("retention")


@functools.cache
def _insert_many(rows: int) -> str:
    return _INSERT_PRED + (", " + _ROW_PARAMS) * (rows - 1)


def _insert_predictions(conn: sqlite3.Connection, batches: list[Batch]) -> None:
    """One ``prediction_batches`` row per request, numbered on from the file's last ``seq`` (read in the same
    transaction, so a file replaced and recovered since the last commit is numbered correctly).

    The writer holds the GIL while it encodes a request's rows, and SQLite hands it back to the event loop
    during each statement: so a statement runs as soon as ``ENCODED_ROWS_PER_STATEMENT`` rows are encoded,
    or ``ROWS_PER_INSERT`` requests (one multi-row INSERT: single-row requests, where per-statement costs
    count), instead of after the whole commit's; and after each statement the writer yields the core
    (``sched_yield``). Why the yield: the writer wakes once per flush interval with the scheduler's credit for
    its sleep, so Linux runs it ahead of the event loop until its commit is done -- 1-3 ms in which no request
    is answered, which became single-row p99 (``service_bench.py``: (b)/(a) p99 1.40-1.59x without the
    yield, 1.11-1.18x with it, the same window; benchmarks/PROFILE.md, round 5)."""
    if not batches:
        return
    seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM prediction_batches").fetchone()[0]
    width = len(BATCH_COLUMNS)
    per = min(ROWS_PER_INSERT, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
    params: list[object] = []
    encoded = 0
    for prefix, first, n, ts, version, rows, preds, latency_ms, request_id in batches:
        seq += n
        encoded += n
        params += (seq, ts, version, latency_ms, request_id, prefix, first, n, encode_rows(rows, preds))
        if encoded >= ENCODED_ROWS_PER_STATEMENT or len(params) == per * width:
            _execute(conn, params, per, width)
            params, encoded = [], 0
            os.sched_yield()
    if params:
        _execute(conn, params, per, width)


def _execute(conn: sqlite3.Connection, params: list[object], per: int, width: int) -> None:
    """``per`` requests in one multi-row INSERT (the statement is cached); fewer by ``executemany``."""
    if len(params) == per * width:
        conn.execute(_insert_many(per), params)
    else:
        conn.executemany(_INSERT_PRED, [params[i:i + width] for i in range(0, len(params), width)])


async def wait_committed(fut: Future[None] | None) -> None:
    if fut is not None:
        await asyncio.wrap_future(fut)
