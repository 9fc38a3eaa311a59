"""The prediction log's tables and how to open them: shared by the writer, its file recovery and every reader
(the drift monitor, retraining, the curriculum checks)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from model_service.features import FEATURE_NAMES

COLUMNS = ("id", "ts", "model_version", *FEATURE_NAMES, "prediction", "latency_ms", "request_id")
FB_COLUMNS = ("prediction_id", "ts", "actual", "model_version", "prediction")
TABLES = {"predictions": COLUMNS, "feedback": FB_COLUMNS}
WIDTH = len(COLUMNS)  # values per prediction row
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
# 16 KiB pages instead of SQLite's 4 KiB: ~15 % less CPU per inserted row (three B-trees grow per row; bigger
# pages split less often), measured on 1.2M-row logs for issue 18. Readers need no setting: it is in the file.
PAGE_SIZE = 16384


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


def open_writer(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """The writer's connection: the file (created if missing, with its tables), waiting at most
    ``busy_timeout_ms`` for another process's lock per statement."""
    conn = connect(path)
    try:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.executescript(SCHEMA)
        conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn
