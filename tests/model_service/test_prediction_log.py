"""The prediction log: batched commits, lookups of rows not yet committed, retention, and a draining close."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from aiops_core.polling import wait_until
from model_service.prediction_log import PAGE_SIZE, ROWS_PER_INSERT, SCHEMA, LogFull, PredictionLog, connect


def _row(pid: str, ts: float | None = None, prediction: float = 20.0) -> tuple:
    return (pid, time.time() if ts is None else ts, "v1", 3.0, 2, 0, None, 12.0, prediction, 0.5, "req-1")


def _count(path: Path, table: str = "predictions") -> int:
    conn = connect(path, readonly=True)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def _commits() -> float:
    return REGISTRY.get_sample_value("aiops_prediction_log_commit_duration_seconds_count") or 0.0


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "predictions.db"


@pytest.fixture
def slow_log(db: Path) -> Iterator[PredictionLog]:
    """A log whose writer waits 5 s between commits, so rows stay pending during the test."""
    log = PredictionLog(db, flush_ms=5000)
    log.start()
    yield log
    log.close()


def test_rows_from_many_requests_share_one_commit(db: Path) -> None:
    log = PredictionLog(db, flush_ms=20)
    for r in range(10):  # ten requests' worth of rows buffered before the writer's first cycle
        log.append_predictions([_row(f"r{r}-{i}") for i in range(30)])
    commits = _commits()
    log.start()
    try:
        wait_until(lambda: db.exists() and _count(db) == 300, timeout=10, what="300 committed rows")
        assert _commits() == commits + 1
        log.append_predictions([_row("late")])
        wait_until(lambda: _count(db) == 301, timeout=10, what="the late row")
    finally:
        log.close()


def test_lookup_finds_pending_rows_before_commit(slow_log: PredictionLog, db: Path) -> None:
    slow_log.append_predictions([_row("pending-1", prediction=17.5)])
    assert _count(db) == 0
    assert slow_log.lookup("pending-1") == ("v1", 17.5)
    assert slow_log.lookup("never-made") is None
    assert slow_log.depth() == 1


def test_lookup_finds_committed_rows(db: Path) -> None:
    log = PredictionLog(db, flush_ms=10)
    log.start()
    try:
        log.append_predictions([_row("committed-1", prediction=42.0)])
        wait_until(lambda: _count(db) == 1, timeout=10, what="commit")
        wait_until(lambda: log.depth() == 0 and not log._inflight, timeout=10, what="pending cleared")
        assert log.lookup("committed-1") == ("v1", 42.0)
    finally:
        log.close()


def test_close_drains_everything(slow_log: PredictionLog, db: Path) -> None:
    slow_log.append_predictions([_row(f"d{i}") for i in range(1000)])
    slow_log.append_feedback(("d7", time.time(), 25.0, "v1", 20.0))
    slow_log.close()
    assert _count(db) == 1000
    assert _count(db, "feedback") == 1
    assert not db.with_name(db.name + "-wal").exists() or db.with_name(db.name + "-wal").stat().st_size == 0


def test_sync_append_completes_only_after_commit(slow_log: PredictionLog, db: Path) -> None:
    fut = slow_log.append_predictions([_row("sync-1")], wait=True)
    assert fut is not None
    fut.result(timeout=5)  # wakes the writer instead of waiting out the 5 s flush interval
    assert _count(db) == 1
    fb = slow_log.append_feedback(("sync-1", time.time(), 25.0, "v1", 20.0), wait=True)
    assert fb is not None
    fb.result(timeout=5)
    assert _count(db, "feedback") == 1


def test_full_buffer_refuses_instead_of_dropping(db: Path) -> None:
    log = PredictionLog(db, queue_max_rows=10)
    log.append_predictions([_row(f"f{i}") for i in range(10)])
    with pytest.raises(LogFull, match="10 rows"):
        log.append_predictions([_row("one-too-many")])
    assert log.depth() == 10


def test_retention_removes_old_rows_and_caps_row_count(db: Path) -> None:
    now = time.time()
    log = PredictionLog(db, flush_ms=10, retention_days=1.0, retention_rows=3)
    log.append_predictions([_row("old-1", ts=now - 3 * 86400), _row("old-2", ts=now - 2 * 86400)])
    log.append_predictions([_row(f"new-{i}", ts=now) for i in range(5)])
    log.append_feedback(("old-1", now - 3 * 86400, 30.0, "v1", 20.0))
    log.append_feedback(("new-0", now, 30.0, "v1", 20.0))
    log.start()  # retention runs in the writer's first cycle, right after the first commit
    log.close()
    conn = connect(db, readonly=True)
    ids = [r[0] for r in conn.execute("SELECT id FROM predictions ORDER BY rowid")]
    feedback = [r[0] for r in conn.execute("SELECT prediction_id FROM feedback")]
    conn.close()
    assert ids == ["new-2", "new-3", "new-4"]  # old by age, then the oldest beyond the row cap
    assert feedback == ["new-0"]


def test_duplicate_ids_are_ignored_not_fatal(db: Path) -> None:
    log = PredictionLog(db, flush_ms=10)
    log.start()
    log.append_predictions([_row("dup", prediction=1.0)])
    log.append_predictions([_row("dup", prediction=2.0)])
    log.close()
    assert _count(db) == 1
    assert log.healthy is False  # closed: the writer thread is gone


def test_rows_of_many_requests_are_committed_in_the_order_they_were_acknowledged(db: Path) -> None:
    """Several multi-row statements and a remainder, in one commit: the log keeps the arrival order."""
    log = PredictionLog(db, flush_ms=20)
    expected = []
    per_request = 61
    requests = (2 * ROWS_PER_INSERT) // per_request + 1  # two whole statements and a remainder row by row
    assert (requests * per_request) % ROWS_PER_INSERT
    for r in range(requests):
        rows = [_row(f"o{r}-{i}") for i in range(per_request)]
        log.append_predictions(rows[:10])
        log.append_values([v for row in rows[10:] for v in row])
        expected += [row[0] for row in rows]
    log.start()
    log.close()
    conn = connect(db, readonly=True)
    assert [r[0] for r in conn.execute("SELECT id FROM predictions ORDER BY rowid")] == expected
    conn.close()


def test_every_column_of_a_row_lands_in_its_column(db: Path) -> None:
    log = PredictionLog(db, flush_ms=20)
    now = time.time()
    rows = [("c-" + str(i), now + i, "v7", 1.5 * i, 3, 1, None if i % 2 else 2.5, 48.0, 30.0 + i, 0.25, "req")
            for i in range(ROWS_PER_INSERT + 7)]
    log.append_values([v for row in rows for v in row])
    log.start()
    log.close()
    conn = connect(db, readonly=True)
    logged = conn.execute("SELECT * FROM predictions ORDER BY rowid").fetchall()
    conn.close()
    assert logged == [tuple(float(v) if isinstance(v, int) else v for v in row) for row in rows]


def test_malformed_rows_are_refused_on_append_and_nothing_is_queued(db: Path) -> None:
    log = PredictionLog(db)
    with pytest.raises(ValueError, match="has 10 values, expected 11"):
        log.append_predictions([_row("ok"), _row("short")[:-1]])
    with pytest.raises(ValueError, match="not whole prediction-log rows"):
        log.append_values([*_row("a"), "stray"])
    assert log.depth() == 0


def test_lookup_finds_rows_appended_after_an_earlier_lookup(slow_log: PredictionLog) -> None:
    slow_log.append_predictions([_row("early", prediction=1.0)])
    assert slow_log.lookup("early") == ("v1", 1.0)
    slow_log.append_values(list(_row("late-1", prediction=2.0)) + list(_row("late-2", prediction=3.0)))
    assert slow_log.lookup("late-2") == ("v1", 3.0)
    assert slow_log.lookup("early") == ("v1", 1.0)
    assert slow_log.depth() == 3


def test_lookup_finds_rows_while_they_are_being_committed(db: Path) -> None:
    """Between the writer taking the buffer and the commit ending, a row is in neither the buffer nor the
    database; lookup must still find it (checked under the writer's own lock, mid-commit)."""
    log = PredictionLog(db, flush_ms=5000)
    log.append_predictions([_row("flying", prediction=9.0)])
    log.lookup("flying")  # indexed while waiting ...
    log.append_predictions([_row("unindexed", prediction=8.0)])  # ... and one that is not yet
    seen: list[tuple[str, float] | None] = []
    original = log._commit

    def commit_and_look(conn, preds, fbs, waiters):  # type: ignore[no-untyped-def]
        seen.extend([log.lookup("flying"), log.lookup("unindexed")])
        original(conn, preds, fbs, waiters)

    log._commit = commit_and_look  # type: ignore[method-assign]
    log.start()
    log.close()
    assert seen == [("v1", 9.0), ("v1", 8.0)]


def test_a_new_log_gets_large_pages_and_an_existing_log_keeps_its_own(db: Path, tmp_path: Path) -> None:
    log = PredictionLog(db)
    log.start()
    log.close()
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA page_size=4096")
    conn.executescript(SCHEMA)
    conn.close()
    log = PredictionLog(old, flush_ms=10)
    log.start()
    log.append_predictions([_row("on-old-pages")])
    log.close()
    sizes = []
    for path in (db, old):
        conn = connect(path, readonly=True)
        sizes.append(conn.execute("PRAGMA page_size").fetchone()[0])
        conn.close()
    assert sizes == [PAGE_SIZE, 4096]
    assert _count(old) == 1
