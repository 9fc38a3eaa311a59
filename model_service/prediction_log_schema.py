"""The prediction log's tables and how to open them: shared by the writer, its file recovery and every reader
(the drift monitor, retraining, the curriculum checks).

One row per request, read through a view with one row per prediction (issue 18). ``prediction_batches`` holds
each /predict request as one row: its time, model version, latency and request id once, the ids as a prefix
and the first counter (a batch's ids are consecutive), and its rows as one JSON array of
``[[feature, ...], prediction]`` pairs (features in ``FEATURE_NAMES`` order, ``null`` for a missing value).
The view ``predictions`` expands it into the columns of ``COLUMNS`` plus ``seq``, the row's position in the
log, so every reader (and a learner's ``sqlite3 .lab/predictions.db "SELECT ... FROM predictions"``) reads
one row per prediction as before.

Why: a row per prediction cost the writer three B-tree entries and eleven bound values per row, the largest
piece of a 100-row request (benchmarks/PROFILE.md, round 5); one row per request costs three entries per
request. JSON keeps the values exact: SQLite's JSON parser gives back every double Python wrote with
``repr`` bit for bit (tests/model_service/test_prediction_log_schema.py proves it on this SQLite), unlike a
``CAST`` of the same text.

A row whose id is not ours (written through ``PredictionLog.append_predictions`` with any id, or kept from a
log of the old layout) is a batch of one with ``first = -1`` and the whole id as its prefix.

Old files (one ``predictions`` table) are converted when the writer opens them (``migrate``), in one
transaction, every value kept exactly; readers of a file not yet converted read its table as before.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

from model_service.features import FEATURE_NAMES

COLUMNS = ("id", "ts", "model_version", *FEATURE_NAMES, "prediction", "latency_ms", "request_id")
FB_COLUMNS = ("prediction_id", "ts", "actual", "model_version", "prediction")
BATCH_COLUMNS = ("seq", "ts", "model_version", "latency_ms", "request_id", "id_prefix", "first", "n", "rows")
WIDTH = len(COLUMNS)  # values per prediction row
OWN_ID = -1  # ``first`` of a batch of one whose id is ``id_prefix`` itself

# No CAST: an integer feature reads back as the integer it was (the old table's REAL column made it 3.0), and a
# value edited by hand into text stays text for the reader to refuse, instead of turning into 0.0.
_FEATURES = ",\n       ".join(f"json_extract(r.value, '$[0][{i}]') AS {n}" for i, n in enumerate(FEATURE_NAMES))
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS prediction_batches (
    seq INTEGER PRIMARY KEY,  -- the log position of the batch's last row: rows so far, this batch's included
    ts REAL NOT NULL, model_version TEXT NOT NULL, latency_ms REAL, request_id TEXT,
    id_prefix TEXT NOT NULL, first INTEGER NOT NULL, n INTEGER NOT NULL, rows TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS prediction_batches_ts ON prediction_batches(ts);
CREATE UNIQUE INDEX IF NOT EXISTS prediction_batches_id ON prediction_batches(id_prefix, first);
CREATE VIEW IF NOT EXISTS predictions AS
SELECT CASE WHEN b.first < 0 THEN b.id_prefix ELSE b.id_prefix || printf('%x', b.first + r.key) END AS id,
       b.ts AS ts, b.model_version AS model_version,
       {_FEATURES},
       json_extract(r.value, '$[1]') AS prediction,
       b.latency_ms AS latency_ms, b.request_id AS request_id,
       b.seq - b.n + 1 + r.key AS seq
FROM prediction_batches b, json_each(b.rows) r;
CREATE TABLE IF NOT EXISTS feedback (
    prediction_id TEXT PRIMARY KEY, ts REAL NOT NULL, actual REAL NOT NULL,
    model_version TEXT NOT NULL, prediction REAL NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_ts ON feedback(ts);
"""
# 16 KiB pages instead of SQLite's 4 KiB: ~15 % less CPU per inserted row (bigger pages split less often),
# measured on 1.2M-row logs for issue 18. Readers need no setting: it is in the file.
PAGE_SIZE = 16384
_ENCODE = msgspec.json.Encoder().encode
log = logging.getLogger("aiops.service.prediction_log")
_MIGRATE_CHUNK = 20_000


def encode_rows(rows: Sequence[Sequence[object]], preds: Sequence[float]) -> str:
    """The ``rows`` column: ``[[features], prediction]`` pairs as JSON (shortest round-trip floats)."""
    return _ENCODE(list(zip(rows, preds, strict=True))).decode()


def split_id(prediction_id: str) -> tuple[str, int] | None:
    """(prefix, counter) of an id the service made (``p<hex>-<hex counter>``), else None."""
    cut = prediction_id.rfind("-") + 1
    digits = prediction_id[cut:]
    if not cut or not digits or len(digits) > 15:
        return None
    try:
        counter = int(digits, 16)
    except ValueError:
        return None
    if f"{counter:x}" != digits:  # "0a", "A", "+1": not how the service writes a counter
        return None
    return prediction_id[:cut], counter


def find(conn: sqlite3.Connection, prediction_id: str) -> tuple[str, float] | None:
    """(model_version, prediction) of a logged prediction, through the indexes (never a scan of the view).

    An id the service made is looked up by its batch first (one query for the usual /feedback); a row kept
    under its own id (``OWN_ID``: old files, ``append_predictions``) only when that finds nothing."""
    row = None
    if (parts := split_id(prediction_id)) is not None:
        prefix, counter = parts
        row = conn.execute("SELECT model_version, json_extract(rows, '$[' || (? - first) || '][1]') "
                           "FROM (SELECT * FROM prediction_batches WHERE id_prefix = ? AND first BETWEEN 0 AND ? "
                           "ORDER BY first DESC LIMIT 1) WHERE ? < first + n",
                           (counter, prefix, counter, counter)).fetchone()
    if row is None:
        row = conn.execute("SELECT model_version, json_extract(rows, '$[0][1]') FROM prediction_batches "
                           "WHERE id_prefix = ? AND first = ?", (prediction_id, OWN_ID)).fetchone()
    return (row[0], row[1]) if row else None


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
    """The writer's connection: the file (created if missing, with its tables; converted if it has the old
    layout), waiting at most ``busy_timeout_ms`` for another process's lock per statement."""
    conn = connect(path)
    try:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        with conn:
            conn.execute("BEGIN IMMEDIATE")  # one writer converts; another waits, then finds nothing to do
            migrate(conn)
            create(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def create(conn: sqlite3.Connection) -> None:
    """The tables, indexes and view, in the caller's transaction (``executescript`` would commit it first)."""
    for statement in SCHEMA.split(";\n"):
        if statement.strip():
            conn.execute(statement)


def migrate(conn: sqlite3.Connection) -> int:
    """Convert a log of the old layout (a ``predictions`` table, one row per prediction) in the caller's
    transaction: every row becomes a batch of one with its own id, in the table's order, values exact.
    Returns the rows converted (0: nothing to convert).

    ~10 µs a row on this project's machine (1M rows: 9.5 s), once; the service becomes ready after it, well
    within the launcher's 90 s for the largest log retention keeps (2M rows). Said in the service log, so a
    slow first start after an upgrade is explained."""
    kind = conn.execute("SELECT type FROM sqlite_master WHERE name = 'predictions'").fetchone()
    if kind is None or kind[0] != "table":
        return 0
    started = time.monotonic()
    total = conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
    log.warning(f"prediction log: converting {total} rows of the old layout to one row per request ...",
                extra={"rows": total})
    conn.execute("ALTER TABLE predictions RENAME TO predictions_old")
    conn.execute("DROP INDEX IF EXISTS predictions_ts")
    create(conn)
    names = ", ".join(COLUMNS)
    seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM prediction_batches").fetchone()[0]
    converted = 0
    last = -1
    while True:
        chunk = conn.execute(f"SELECT rowid, {names} FROM predictions_old WHERE rowid > ? ORDER BY rowid LIMIT ?",
                             (last, _MIGRATE_CHUNK)).fetchall()
        if not chunk:
            break
        last = chunk[-1][0]
        batches = []
        for row in chunk:
            seq += 1
            batches.append(one_row_batch(seq, row[1:]))
        conn.executemany(f"INSERT OR IGNORE INTO prediction_batches ({', '.join(BATCH_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(BATCH_COLUMNS))})", batches)
        converted += len(chunk)
    conn.execute("DROP TABLE predictions_old")
    log.warning(f"prediction log: converted {converted} rows in {time.monotonic() - started:.1f} s",
                extra={"rows": converted})
    return converted


def one_row_batch(seq: int, row: Sequence[object]) -> tuple[object, ...]:
    """The ``prediction_batches`` row (``BATCH_COLUMNS``) of one prediction row (``COLUMNS``), id kept as is."""
    pid, ts, version, *rest = row
    features, (prediction, latency_ms, request_id) = rest[:len(FEATURE_NAMES)], rest[len(FEATURE_NAMES):]
    return (seq, ts, version, latency_ms, request_id, pid, OWN_ID, 1, encode_rows([features], [prediction]))
