"""The prediction log: batched commits, lookups of rows not yet committed, retention, and a draining close."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from aiops_core.polling import wait_until
from model_service.prediction_log import LogFull, PredictionLog, connect


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
        wait_until(lambda: log.depth() == 0 and not log._pending, timeout=10, what="pending cleared")
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
