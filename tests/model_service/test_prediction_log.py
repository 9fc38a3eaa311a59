"""The prediction log: batched commits, lookups of rows not yet committed, retention, a draining close, its file
removed or replaced under it, and failed writes reported once per kind."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from aiops_core.polling import wait_until
from model_service import prediction_log_failures
from model_service.prediction_log import ROWS_PER_INSERT, LogDetached, LogFull, LogRefused, PredictionLog, connect
from model_service.prediction_log_failures import FailureReport
from model_service.prediction_log_schema import COLUMNS, PAGE_SIZE, SCHEMA
from tests.model_service.log_file_faults import SIDECARS, remove, remove_and_block
from tests.support.speed import scaled


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


def test_an_idle_writer_sleeps_until_a_row_arrives_instead_of_polling(db: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing to write, the writer wakes every IDLE_CHECK_S, not every flush interval (twenty times a
    second, ~6 ms of CPU a second in an idle lab); the first row still wakes it at once, and a sync-mode
    append (which must not wait out a flush interval) and a feedback row too."""
    from model_service import prediction_log

    # only an arrival can wake it in this test (raising=False: the old code has no such constant, and must fail below)
    monkeypatch.setattr(prediction_log, "IDLE_CHECK_S", 3600.0, raising=False)
    log = PredictionLog(db, flush_ms=20)
    cycles = []
    follow = log._file.follow
    monkeypatch.setattr(log._file, "follow", lambda *a, **kw: cycles.append(1) or follow(*a, **kw))
    log.start()
    try:
        time.sleep(0.5)  # 25 flush intervals of an idle log (an old-style writer cycles ~25 times)
        assert len(cycles) <= 2, f"an idle writer cycled {len(cycles)} times in 0.5 s"
        log.append_predictions([_row("first")])
        wait_until(lambda: _count(db) == 1, timeout=scaled(10), what="the first row after an idle spell")
        time.sleep(0.2)  # idle again
        log.append_predictions([_row("sync")], wait=True).result(timeout=scaled(10))
        log.append_feedback(("first", time.time(), 25.0, "v1", 20.0))
        wait_until(lambda: _count(db, "feedback") == 1, timeout=scaled(10), what="feedback after an idle spell")
    finally:
        log.close()
    assert _count(db) == 2


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


def test_backlogged_past_half_the_buffer_and_not_after_a_commit(db: Path) -> None:
    log = PredictionLog(db, flush_ms=10, queue_max_rows=10)
    log.append_predictions([_row(f"h{i}") for i in range(5)])
    assert not log.backlogged()  # half is not more than half
    log.append_predictions([_row("h5")])
    assert log.backlogged()
    log.start()
    try:
        wait_until(lambda: not log.backlogged(), timeout=scaled(10), what="the writer takes the backlog")
    finally:
        log.close()
    assert _count(db) == 6


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
    ids = [r[0] for r in conn.execute("SELECT id FROM predictions ORDER BY seq")]
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
    per_request = 61  # 10 rows of their own (a log entry each) and one batch of 51: 11 entries
    requests = (2 * ROWS_PER_INSERT) // 11 + 1  # two whole statements and a remainder
    assert requests * 11 > 2 * ROWS_PER_INSERT and (requests * 11) % ROWS_PER_INSERT
    for r in range(requests):
        rows = [_row(f"o{r}-{i}") for i in range(per_request)]
        log.append_predictions(rows[:10])
        first = 0x10000000 + 100 * r
        log.append_batch("pfeed-", first, time.time(), "v1", [list(row[3:-3]) for row in rows[10:]],
                         [row[-3] for row in rows[10:]], 0.5, "req-1")
        expected += [row[0] for row in rows[:10]] + [f"pfeed-{first + i:x}" for i in range(per_request - 10)]
    log.start()
    log.close()
    conn = connect(db, readonly=True)
    assert [r[0] for r in conn.execute("SELECT id FROM predictions ORDER BY seq")] == expected
    conn.close()


def test_every_column_of_a_row_lands_in_its_column(db: Path) -> None:
    log = PredictionLog(db, flush_ms=20)
    now = time.time()
    rows = [("c-" + str(i), now + i, "v7", 1.5 * i, 3, 1, None if i % 2 else 2.5, 48.0, 30.0 + i, 0.25, "req")
            for i in range(ROWS_PER_INSERT + 7)]
    log.append_predictions(rows)
    batch = [("p0123456789-%x" % (0x10000000 + i), now + 500, "v8", 2.5 * i, 4, 0, 1.0 + i, 12.0, 20.0 - i, 7.5,
              "req-b") for i in range(3)]
    log.append_batch("p0123456789-", 0x10000000, now + 500, "v8", [list(r[3:-3]) for r in batch],
                     [r[-3] for r in batch], 7.5, "req-b")
    rows += batch
    log.start()
    log.close()
    conn = connect(db, readonly=True)
    logged = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM predictions ORDER BY seq").fetchall()
    conn.close()
    assert logged == rows
    # Integers stay integers (the request's counts), floats floats:
    assert [type(v) for v in logged[1][3:8]] == [float, int, int, type(None), float]


def test_malformed_rows_are_refused_on_append_and_nothing_is_queued(db: Path) -> None:
    log = PredictionLog(db)
    with pytest.raises(ValueError, match="has 10 values, expected 11"):
        log.append_predictions([_row("ok"), _row("short")[:-1]])
    with pytest.raises(ValueError, match="one prediction per row"):
        log.append_batch("pabc-", 0x10000000, time.time(), "v1", [[3.0, 2, 0, None, 12.0]] * 2, [20.0], 0.5, None)
    with pytest.raises(ValueError, match="counter >= 0"):
        log.append_batch("pabc-", -1, time.time(), "v1", [[3.0, 2, 0, None, 12.0]], [20.0], 0.5, None)
    assert log.depth() == 0


def test_lookup_finds_rows_appended_after_an_earlier_lookup(slow_log: PredictionLog) -> None:
    slow_log.append_predictions([_row("early", prediction=1.0)])
    assert slow_log.lookup("early") == ("v1", 1.0)
    slow_log.append_batch("plate-", 0x10000000, time.time(), "v2", [[3.0, 2, 0, None, 12.0]] * 2, [2.0, 3.0],
                          0.5, None)
    assert slow_log.lookup("plate-10000001") == ("v2", 3.0)
    assert slow_log.lookup("plate-10000002") is None  # past the batch's end
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


# --- the database file removed or replaced under the running writer (issue 14, item 1) ---------------------

def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _ids(path: Path) -> list[str]:
    conn = connect(path, readonly=True)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM predictions ORDER BY seq")]
    finally:
        conn.close()


def _after_a_crash(db: Path, tmp_path: Path) -> list[str]:
    """The prediction ids a service restarted after ``kill -9`` would find: the file at the path and the WAL
    at its name, copied and opened elsewhere (a connection in this process to the file itself would share
    the writer's in-memory WAL index, and see rows that only the writer's unlinked WAL holds)."""
    crashed = tmp_path / f"crashed-{time.monotonic_ns()}"
    crashed.mkdir()
    for suffix in ("", "-wal"):
        if db.with_name(db.name + suffix).exists():
            shutil.copyfile(db.with_name(db.name + suffix), crashed / f"predictions.db{suffix}")
    conn = sqlite3.connect(crashed / "predictions.db")
    try:
        return [r[0] for r in conn.execute("SELECT id FROM predictions ORDER BY seq")]
    finally:
        conn.close()


def _idle(log: PredictionLog) -> bool:
    return log.depth() == 0 and not log._inflight


@pytest.mark.parametrize("suffixes", [("", "-wal", "-shm"), ("",)], ids=["with-its-wal", "main-file-only"])
def test_a_removed_file_is_recreated_with_every_row_it_held(db: Path, suffixes: tuple[str, ...]) -> None:
    log = PredictionLog(db, flush_ms=10)
    log.start()
    replaced, copied = _metric("aiops_prediction_log_file_replaced_total"), _metric(
        "aiops_prediction_log_recoveries_total", outcome="copied")
    try:
        log.append_predictions([_row(f"before-{i}") for i in range(100)])
        log.append_feedback(("before-3", time.time(), 25.0, "v1", 20.0))
        wait_until(lambda: _count(db) == 100 and _count(db, "feedback") == 1, timeout=10, what="first commit")
        remove(db, suffixes)
        log.append_predictions([_row(f"after-{i}") for i in range(50)])
        wait_until(lambda: db.exists() and _count(db) == 150, timeout=10, what="every row back at the path")
        assert _ids(db) == [f"before-{i}" for i in range(100)] + [f"after-{i}" for i in range(50)]
        assert _count(db, "feedback") == 1
        assert log.lookup("before-7") == ("v1", 20.0)  # the reader moved to the new file too
        assert log.healthy and log.problem is None
        # One event; two if the writer recovered between the removal of "" and of "-wal" (and then saw the new
        # file's sidecars removed): each one recovered.
        events = _metric("aiops_prediction_log_file_replaced_total") - replaced
        assert events in (1, 2) if len(suffixes) > 1 else events == 1
        assert _metric("aiops_prediction_log_recoveries_total", outcome="copied") == copied + events
        log.append_predictions([_row("later")])
    finally:
        log.close()
    assert _count(db) == 151  # written to the new file, and still there after a clean close


def test_a_file_moved_into_its_place_keeps_its_rows_and_gains_ours(db: Path, tmp_path: Path) -> None:
    log = PredictionLog(db, flush_ms=10)
    log.start()
    try:
        log.append_predictions([_row(f"ours-{i}") for i in range(5)])
        wait_until(lambda: _count(db) == 5, timeout=10, what="first commit")
        restored = tmp_path / "restored.db"
        other = PredictionLog(restored, flush_ms=10)
        other.start()
        other.append_predictions([_row("theirs", prediction=1.0), _row("ours-0", prediction=2.0)])
        other.close()
        restored.replace(db)  # `mv restored.db predictions.db`: a new inode at the path
        wait_until(lambda: _count(db) == 6, timeout=10, what="our rows merged into the restored file")
    finally:
        log.close()
    conn = connect(db, readonly=True)
    rows = dict(conn.execute("SELECT id, prediction FROM predictions").fetchall())
    conn.close()
    assert rows == {"theirs": 1.0, "ours-0": 2.0, **{f"ours-{i}": 20.0 for i in range(1, 5)}}


def test_when_no_new_file_can_be_made_rows_are_refused_until_one_can(db: Path) -> None:
    log = PredictionLog(db, flush_ms=10)
    log.start()
    failed = _metric("aiops_prediction_log_recoveries_total", outcome="failed")
    try:
        log.append_predictions([_row(f"kept-{i}") for i in range(20)])
        wait_until(lambda: _count(db) == 20, timeout=10, what="first commit")
        remove_and_block(db)  # something in the way that SQLite cannot open
        wait_until(lambda: not log.healthy, timeout=10, what="not writable")
        assert "could not be recreated" in (log.problem or "")
        with pytest.raises(LogDetached, match="removed or replaced"):
            log.append_predictions([_row("refused")])
        with pytest.raises(LogDetached):
            log.append_feedback(("kept-1", time.time(), 25.0, "v1", 20.0))
        assert _metric("aiops_prediction_log_recoveries_total", outcome="failed") > failed
        db.rmdir()  # the obstacle gone: the next retry (within a second) recovers everything it held
        wait_until(lambda: log.healthy, timeout=10, what="writable again")
        log.append_predictions([_row("accepted")])
    finally:
        log.close()
    assert _ids(db) == [f"kept-{i}" for i in range(20)] + ["accepted"]


@pytest.mark.parametrize("first", [(), ("",)], ids=["sidecars-only", "leftovers-after-a-recovery"])
def test_removed_wal_and_shm_files_are_noticed_and_every_row_is_put_in_the_file(
        db: Path, tmp_path: Path, first: tuple[str, ...]) -> None:
    """``rm predictions.db-wal predictions.db-shm`` (or the main file first and, once it was recovered, the
    sidecars left at the path): the writer must not go on committing into a WAL that nobody can find."""
    log = PredictionLog(db, flush_ms=10)
    log.start()
    replaced = _metric("aiops_prediction_log_file_replaced_total")
    # "replaced" counts when the loss is noticed, "copied" once every row is safe at the path: copying the
    # files between the two (beside two CPU hogs) found no table in the file yet.
    recovered = _metric("aiops_prediction_log_recoveries_total", outcome="copied")
    before = [f"before-{i}" for i in range(100)]
    try:
        log.append_predictions([_row(pid) for pid in before])
        wait_until(lambda: _idle(log) and _count(db) == 100, timeout=10, what="first commit")
        if first:
            remove(db, first)
            wait_until(lambda: _metric("aiops_prediction_log_recoveries_total", outcome="copied") == recovered + 1
                       and _idle(log), timeout=10, what="the removed file recovered")
        remove(db, SIDECARS)
        wait_until(lambda: _metric("aiops_prediction_log_file_replaced_total") == replaced + 1 + len(first),
                   timeout=10, what="the lost sidecars noticed")
        wait_until(lambda: _metric("aiops_prediction_log_recoveries_total", outcome="copied")
                   == recovered + 1 + len(first), timeout=10, what="every row checkpointed into the file")
        wait_until(lambda: log.healthy, timeout=10, what="writable again")
        assert _after_a_crash(db, tmp_path) == before  # checkpointed into the file at the path
        log.append_predictions([_row(f"after-{i}") for i in range(50)])
        wait_until(lambda: _idle(log), timeout=10, what="the later rows committed")
        assert _after_a_crash(db, tmp_path) == before + [f"after-{i}" for i in range(50)]
        assert log.lookup("before-7") == ("v1", 20.0)  # the reader was reopened too
        assert log.problem is None
    finally:
        log.close()
    assert _ids(db) == before + [f"after-{i}" for i in range(50)]


def test_a_sync_answer_waits_until_its_rows_are_in_the_file_at_the_path(slow_log: PredictionLog, db: Path,
                                                                        tmp_path: Path) -> None:
    """The file removed while the writer commits (after its check of the file, before the commit): the rows
    land in the unlinked file, so the answer must wait until they are copied to the path."""
    original, removed = slow_log._commit, []

    def remove_then_commit(conn, preds, fbs, waiters):  # type: ignore[no-untyped-def]
        if not removed:
            removed.append(remove(db))
        return original(conn, preds, fbs, waiters)

    slow_log._commit = remove_then_commit  # type: ignore[method-assign]
    fut = slow_log.append_predictions([_row("answered")], wait=True)
    assert fut is not None
    fut.result(timeout=5)
    assert removed and _after_a_crash(db, tmp_path) == ["answered"]  # kill -9 now would lose nothing


def test_requests_waiting_when_the_file_is_lost_get_an_answer(slow_log: PredictionLog, db: Path) -> None:
    """Sync-mode rows appended just before the writer finds the file gone and the path blocked: their requests
    are answered with the cause (503) instead of hanging until the path is cleared."""
    first = slow_log.append_predictions([_row("first")], wait=True)
    assert first is not None
    first.result(timeout=5)
    remove_and_block(db)
    waiting = slow_log.append_predictions([_row("waiting")], wait=True)  # wakes the writer: no file to write
    assert waiting is not None
    with pytest.raises(LogDetached, match="could not be recreated"):
        waiting.result(timeout=5)
    db.rmdir()
    slow_log.close()  # the row was kept, and is written once the path is clear
    assert _ids(db) == ["first", "waiting"]


def test_close_answers_every_request_still_waiting(db: Path) -> None:
    log = PredictionLog(db)  # never started: nothing will ever commit these rows
    fut = log.append_predictions([_row("never-written")], wait=True)
    assert fut is not None
    log.close()
    with pytest.raises(LogRefused, match="closed before these rows were written"):
        fut.result(timeout=0)


# --- failed writes: logged once per kind, counted in the backlog (issue 14, item 8) ------------------------

class _Lines(logging.Handler):
    """The log records of the prediction log's logger, as the service would print them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def log_lines() -> Iterator[_Lines]:
    logger = logging.getLogger("aiops.service.prediction_log")
    handler, level = _Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_locked_database_is_logged_once_and_the_retried_batch_stays_in_the_backlog(
        db: Path, log_lines: _Lines) -> None:
    log = PredictionLog(db, flush_ms=10, busy_timeout_ms=50)
    log.start()
    errors = _metric("aiops_prediction_log_write_errors_total")
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock (a backup, a sqlite3 shell)
        log.append_predictions([_row(f"locked-{i}") for i in range(30)])
        log.append_feedback(("locked-0", time.time(), 25.0, "v1", 20.0))
        wait_until(lambda: _metric("aiops_prediction_log_write_errors_total") >= errors + 4, timeout=10,
                   what="several failed commits")
        assert log.depth() == 31  # the batch being retried is still unwritten
        assert not log.healthy and "database is locked" in (log.problem or "")
        holder.execute("ROLLBACK")
        wait_until(lambda: _count(db) == 30 and log.depth() == 0, timeout=10, what="the backlog written")
        assert log.healthy
    finally:
        holder.close()
        log.close()
    failures = [r for r in log_lines.records if r.getMessage().startswith("prediction log commit failed")]
    assert len(failures) == 1, [r.getMessage() for r in failures]
    assert failures[0].levelno == logging.ERROR
    assert failures[0].sqlite_error == "SQLITE_BUSY"  # type: ignore[attr-defined]
    assert "database is locked" in failures[0].getMessage()
    recovered = [r.getMessage() for r in log_lines.records if "succeeds again" in r.getMessage()]
    assert len(recovered) == 1 and "failed attempts (SQLITE_BUSY)" in recovered[0]


def test_each_kind_of_failure_is_logged_once_per_episode(log_lines: _Lines) -> None:
    report = FailureReport()
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"  # type: ignore[attr-defined]
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
    for exc in (busy, busy, full, busy, full):
        report.failed("commit", exc, rows_waiting=10)
    report.succeeded("commit")
    report.failed("commit", busy, rows_waiting=1)  # a new episode: worth one line again
    messages = [r.getMessage() for r in log_lines.records]
    assert [m.split(":")[0] for m in messages] == ["prediction log commit failed", "prediction log commit failed",
                                                   "prediction log commit succeeds again after 3 failed attempts "
                                                   "(SQLITE_BUSY), 2 failed attempts (SQLITE_FULL)",
                                                   "prediction log commit failed"]


def _error(message: str, name: str) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorname = name  # type: ignore[attr-defined]
    return exc


def test_readyz_names_the_failure_that_makes_the_log_not_ready() -> None:
    """A commit failing makes the log not ready; a retention pass failing after it must not hide it."""
    report = FailureReport()
    report.failed("commit", _error("database is locked", "SQLITE_BUSY"), rows_waiting=5)
    report.failed("retention", _error("database or disk is full", "SQLITE_FULL"), rows_waiting=5)
    assert report.error("commit") == "commit failed: database is locked (SQLITE_BUSY)"
    report.succeeded("retention")
    assert report.error("commit") == "commit failed: database is locked (SQLITE_BUSY)"
    report.succeeded("commit")
    assert report.error("commit") is None


def test_a_new_kind_of_failure_does_not_delay_the_repeat_summary_of_another(
        log_lines: _Lines, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(prediction_log_failures, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    report = FailureReport()
    busy, full = _error("database is locked", "SQLITE_BUSY"), _error("database or disk is full", "SQLITE_FULL")
    report.failed("commit", busy, rows_waiting=1)
    clock[0] += prediction_log_failures.REPEAT_S - 1
    report.failed("retention", full, rows_waiting=1)  # a new kind, just before the busy one is due again
    clock[0] += 1
    report.failed("commit", busy, rows_waiting=1)  # REPEAT_S after its first line: summarised now
    messages = [r.getMessage() for r in log_lines.records]
    assert len(messages) == 3 and messages[2].startswith("prediction log writes still failing"), messages
