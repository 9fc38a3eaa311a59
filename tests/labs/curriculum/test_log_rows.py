"""``live.log_rows``: a check finds a prediction the service answered but its writer has not committed yet."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from labs.curriculum import live
from model_service.prediction_log_schema import BATCH_COLUMNS, COLUMNS, one_row_batch, open_writer

SQL = "SELECT id FROM predictions WHERE request_id = ?"


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "predictions.db"
    monkeypatch.setenv("AIOPS_PREDICTION_LOG", str(path))
    open_writer(path, 5000).close()  # the file and its tables, as the service creates them
    return path


def _insert(path: Path, request_id: str) -> None:
    row = {c: 1.0 for c in COLUMNS} | {"id": "p-1", "ts": time.time(), "model_version": "v1",
                                       "request_id": request_id}
    conn = open_writer(path, 5000)
    with conn:
        conn.execute(f"INSERT INTO prediction_batches ({', '.join(BATCH_COLUMNS)}) "
                     f"VALUES ({', '.join('?' * len(BATCH_COLUMNS))})", one_row_batch(1, [row[c] for c in COLUMNS]))
    conn.close()


def test_a_row_committed_after_the_first_look_is_found(log: Path) -> None:
    writer = threading.Timer(0.3, _insert, (log, "late-1"))
    writer.start()
    try:
        assert live.log_rows(SQL, ("late-1",), wait_s=10) == [("p-1",)]
    finally:
        writer.join()


def test_a_request_never_sent_is_not_found_after_the_wait(log: Path) -> None:
    started = time.monotonic()
    assert live.log_rows(SQL, ("never-sent",), wait_s=0.3) == []
    assert time.monotonic() - started >= 0.3
