"""The prediction log's layout (one row per request, a view with one row per prediction): values come back bit
for bit, ids are found through the indexes, old files are converted without losing a row, retention removes
whole requests and a recovery numbers the copied requests after the target's own."""

from __future__ import annotations

import logging
import math
import random
import sqlite3
import struct
import time
from pathlib import Path

import pytest

from aiops_core.polling import wait_until
from model_service.features import FEATURE_NAMES
from model_service.prediction_log import PredictionLog
from model_service.prediction_log_file import copy_rows
from model_service.prediction_log_schema import COLUMNS, connect, find, open_writer, split_id
from tests.support.speed import scaled

# The layout before issue 18's round 5: one table row per prediction (kept here to prove the conversion).
OLD_SCHEMA = f"""
CREATE TABLE predictions (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, model_version TEXT NOT NULL,
    {", ".join(f"{n} REAL" for n in FEATURE_NAMES)},
    prediction REAL NOT NULL, latency_ms REAL, request_id TEXT);
CREATE INDEX predictions_ts ON predictions(ts);
CREATE TABLE feedback (
    prediction_id TEXT PRIMARY KEY, ts REAL NOT NULL, actual REAL NOT NULL,
    model_version TEXT NOT NULL, prediction REAL NOT NULL);
CREATE INDEX feedback_ts ON feedback(ts);
"""
PREFIX = "p0123456789-"
FIRST = 0x10000000
NOW = time.time()  # rows older than the retention (7 days) would be removed by the writer


def _double(rng: random.Random) -> float:
    """Any finite double: random bit patterns (every exponent, subnormals) and everyday values."""
    while True:
        if rng.random() < 0.5:
            value = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        else:
            value = rng.uniform(-1e4, 1e4) * 10.0 ** rng.randint(-12, 12)
        if math.isfinite(value):
            return value


def _rows(path: Path, columns: str = ", ".join(COLUMNS)) -> list[tuple]:
    conn = connect(path, readonly=True)
    try:
        return conn.execute(f"SELECT {columns} FROM predictions ORDER BY seq").fetchall()
    finally:
        conn.close()


def test_every_logged_double_reads_back_bit_for_bit(tmp_path: Path) -> None:
    """The rows are JSON text: SQLite must parse back exactly the double Python wrote (a ``CAST`` of the same
    text is not exact on SQLite 3.40; the JSON parser is, and this proves it on the SQLite in use)."""
    rng = random.Random(18)
    log = PredictionLog(tmp_path / "p.db", flush_ms=10, queue_max_rows=100_000)
    sent: list[list[float]] = []
    for b in range(200):
        rows = [[_double(rng) for _ in FEATURE_NAMES] for _ in range(100)]
        preds = [_double(rng) for _ in rows]
        log.append_batch(PREFIX, FIRST + 100 * b, NOW, "v1", rows, preds, 1.0, None)
        sent += [[*row, p] for row, p in zip(rows, preds, strict=True)]
    log.start()
    log.close()
    got = _rows(tmp_path / "p.db", ", ".join([*FEATURE_NAMES, "prediction"]))
    assert len(got) == len(sent) == 20_000
    mismatched = [(a, b) for want, row in zip(sent, got, strict=True) for a, b in zip(want, row, strict=True)
                  if struct.pack("<d", a) != struct.pack("<d", b)]
    assert mismatched == []


def test_ids_are_found_through_the_indexes_and_nothing_else_matches(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    log = PredictionLog(path, flush_ms=10)
    log.append_batch(PREFIX, FIRST, NOW + 1, "v1", [[1.0, 2, 0, None, 3.0]] * 3, [10.0, 11.0, 12.0], 1.0, "r")
    log.append_batch(PREFIX, FIRST + 3, NOW + 2, "v2", [[1.0, 2, 0, 4.0, 3.0]], [13.0], 1.0, "r")
    log.append_predictions([("hand-made-1", NOW + 3, "v3", 1.0, 2, 0, None, 3.0, 14.0, 1.0, None)])
    log.start()
    log.close()
    conn = connect(path, readonly=True)
    try:
        assert [find(conn, f"{PREFIX}{FIRST + i:x}") for i in range(5)] == [
            ("v1", 10.0), ("v1", 11.0), ("v1", 12.0), ("v2", 13.0), None]
        assert find(conn, "hand-made-1") == ("v3", 14.0)
        for other in (f"{PREFIX}{FIRST - 1:x}", f"{PREFIX}0{FIRST:x}", PREFIX,
                      f"p9999999999-{FIRST:x}", "", "-", "hand-made-2"):
            assert find(conn, other) is None, other
        plan = " ".join(r[-1] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM prediction_batches WHERE id_prefix = ? AND first BETWEEN 0 AND ? "
            "ORDER BY first DESC LIMIT 1", (PREFIX, FIRST)))
        assert "prediction_batches_id" in plan  # a search of the index, not a scan
    finally:
        conn.close()
    assert _rows(path, "id, seq") == [(f"{PREFIX}{FIRST + i:x}", i + 1) for i in range(4)] + [("hand-made-1", 5)]


@pytest.mark.parametrize("text, parts", [(f"{PREFIX}{FIRST:x}", (PREFIX, FIRST)), ("a-b-1f", ("a-b-", 31)),
                                         ("nodash", None), ("p-", None), ("p-01", None), ("p-1F", None),
                                         ("p- 1", None), ("p-+1", None), ("p-" + "f" * 16, None)])
def test_split_id(text: str, parts: tuple[str, int] | None) -> None:
    assert split_id(text) == parts


def _old_file(path: Path, rows: list[tuple], feedback: list[tuple]) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCHEMA)
    with conn:
        conn.executemany(f"INSERT INTO predictions VALUES ({', '.join('?' * len(COLUMNS))})", rows)
        conn.executemany("INSERT INTO feedback VALUES (?, ?, ?, ?, ?)", feedback)
    conn.close()


def test_a_log_of_the_old_layout_is_converted_with_every_row_and_value(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(7)
    path = tmp_path / "p.db"
    old = [(f"p1111111111-{i + 1:x}", NOW - 25_000 + i, "v1", _double(rng), 2.0, 0.0, None if i % 3 else _double(rng),
            12.0, _double(rng), 0.25, f"req-{i // 10}") for i in range(25_000)]  # more than one conversion chunk
    _old_file(path, old, [(old[5][0], NOW, 30.0, "v1", old[5][8])])
    log = PredictionLog(path, flush_ms=10)
    with caplog.at_level(logging.WARNING, "aiops.service.prediction_log"):
        log.start()
    assert "converting 25000 rows of the old layout" in caplog.text and "converted 25000 rows" in caplog.text
    try:
        assert log.lookup(old[5][0]) == ("v1", old[5][8])  # found in the converted file
        assert log.lookup(old[24_999][0]) == ("v1", old[24_999][8])
        log.append_batch(PREFIX, FIRST, NOW + 1, "v2", [[1.0, 2, 0, None, 3.0]], [9.0], 1.0, None)
    finally:
        log.close()
    conn = connect(path, readonly=True)
    kinds = dict(conn.execute("SELECT name, type FROM sqlite_master WHERE name LIKE 'predictions%'").fetchall())
    feedback = conn.execute("SELECT * FROM feedback").fetchall()
    conn.close()
    assert kinds == {"predictions": "view"}  # the old table and its index are gone
    assert _rows(path) == [*old, (f"{PREFIX}{FIRST:x}", NOW + 1, "v2", 1.0, 2, 0, None, 3.0, 9.0, 1.0, None)]
    assert feedback == [(old[5][0], NOW, 30.0, "v1", old[5][8])]
    open_writer(path, 5000).close()  # converting again finds nothing to do
    assert len(_rows(path, "id")) == 25_001


def test_retention_by_row_count_removes_whole_requests(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    log = PredictionLog(path, flush_ms=10, retention_rows=5)
    now = time.time()
    for b in range(4):  # 12 rows in requests of 3: the newest 5 rows reach into the third request
        log.append_batch(PREFIX, FIRST + 3 * b, now, "v1", [[1.0, 2, 0, None, 3.0]] * 3, [1.0, 2.0, 3.0], 1.0, None)
    log.start()  # retention runs in the writer's first cycle, right after the first commit
    log.close()
    assert [r[0] for r in _rows(path, "seq")] == list(range(7, 13))  # the third request kept whole


def test_a_recovery_numbers_the_copied_requests_after_the_targets_own(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    for path, prefix, n in ((ours, "pours-", 3), (theirs, "ptheirs-", 2)):
        log = PredictionLog(path, flush_ms=10)
        for b in range(n):
            log.append_batch(prefix, FIRST + 2 * b, NOW, "v1", [[1.0, 2, 0, None, 3.0]] * 2, [1.0, 2.0], 1.0, None)
        log.start()
        log.close()
    conn = open_writer(ours, 5000)
    try:
        copied = copy_rows(conn, theirs)
        again = copy_rows(conn, theirs)  # every request is already there: nothing is copied twice
    finally:
        conn.close()
    assert copied == {"predictions": 6, "feedback": 0} and again == {"predictions": 0, "feedback": 0}
    rows = _rows(theirs, "id, seq")
    assert [seq for _, seq in rows] == list(range(1, 11))
    assert [pid for pid, _ in rows[4:]] == [f"pours-{FIRST + i:x}" for i in range(6)]


def test_a_backup_of_the_old_layout_moved_into_place_is_converted_and_gains_our_rows(tmp_path: Path) -> None:
    """The runbook's restore (``mv backup.db predictions.db``) with a backup made before the layout changed."""
    path = tmp_path / "predictions.db"
    log = PredictionLog(path, flush_ms=10)
    log.start()
    try:
        log.append_batch(PREFIX, FIRST, NOW, "v2", [[1.0, 2, 0, None, 3.0]] * 2, [5.0, 6.0], 1.0, None)
        wait_until(lambda: len(_rows(path, "id")) == 2, timeout=scaled(10), what="the first commit")
        backup = tmp_path / "backup.db"
        _old_file(backup, [("p2222222222-1", NOW - 5, "v1", 1.5, 2.0, 0.0, None, 3.0, 4.5, 0.3, "r")], [])
        backup.replace(path)
        wait_until(lambda: len(_rows(path, "id")) == 3, timeout=scaled(10), what="our rows merged into the backup")
        assert log.lookup("p2222222222-1") == ("v1", 4.5)
    finally:
        log.close()
    assert _rows(path, "id, seq") == [("p2222222222-1", 1), (f"{PREFIX}{FIRST:x}", 2), (f"{PREFIX}{FIRST + 1:x}", 3)]
