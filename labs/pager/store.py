"""The pager's durable state in SQLite (WAL): the raw notification log, pages, timelines, acks, the
heartbeat and the running drill. What counts as a page is decided in ``episodes.py``.

Every write commits (``synchronous=FULL``) before the caller answers, so a 200 to Alertmanager means the
page is on disk.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from labs.pager import episodes
from labs.pager.schemas import WebhookPayload

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    receiver TEXT NOT NULL,
    group_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    alertname TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    starts_at REAL,
    ends_at REAL,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    page_id INTEGER,
    effect TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_received ON notifications (received_at);
CREATE TABLE IF NOT EXISTS alerts (
    fingerprint TEXT PRIMARY KEY,
    alertname TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    starts_at REAL,
    ends_at REAL,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_notified REAL NOT NULL,
    page_id INTEGER
);
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    alertname TEXT NOT NULL,
    severity TEXT NOT NULL,
    source TEXT NOT NULL,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    starts_at REAL NOT NULL,
    paged_at REAL NOT NULL,
    resolved_at REAL,
    acked_at REAL,
    acked_by TEXT,
    notifications INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS pages_fingerprint ON pages (fingerprint, id);
CREATE INDEX IF NOT EXISTS pages_paged ON pages (paged_at);
CREATE TABLE IF NOT EXISTS timeline (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id INTEGER NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS timeline_page ON timeline (page_id);
CREATE TABLE IF NOT EXISTS heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seen REAL NOT NULL,
    received INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS drills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    drill TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL
);
"""


class PagerStore:
    """Thread-safe access to the pager database (one connection, one lock: writes are tiny)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One committed write transaction; rolled back whole if anything in it fails."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- notifications -------------------------------------------------------------------------------

    def record(self, payload: WebhookPayload, received_at: float) -> list[str]:
        """Store a notification and apply each alert to the pages. Returns each alert's effect."""
        with self.transaction() as db:
            return [episodes.apply(db, payload.receiver, payload.groupKey, alert, received_at)
                    for alert in payload.alerts]

    # -- pages raised by the pager itself (the Watchdog's dead-man's switch) -------------------------

    def open_synthetic_page(self, fingerprint: str, labels: dict[str, str], annotations: dict[str, str],
                            starts_at: float, now: float) -> int | None:
        """Open a pager-made page unless one is already open for ``fingerprint``. Returns its id if new."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM pages WHERE fingerprint = ? AND resolved_at IS NULL",
                          (fingerprint,)).fetchone():
                return None
            return episodes.open_page(db, fingerprint, labels, annotations, starts_at, now, "pager")

    def resolve_open(self, fingerprint: str, at: float, detail: str) -> int:
        """Resolve every open page of ``fingerprint``; returns how many were open."""
        with self.transaction() as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM pages WHERE fingerprint = ? AND resolved_at IS "
                                                "NULL", (fingerprint,))]
            for page_id in ids:
                episodes.resolve(db, page_id, at, detail)
            return len(ids)

    # -- acknowledgements ----------------------------------------------------------------------------

    def ack(self, target: str, by: str, now: float) -> list[dict[str, Any]]:
        """Acknowledge the open pages of a fingerprint (else of an alert name); if none is open, the most
        recent unacknowledged one. Returns the matched pages (empty: nothing matches ``target``), each with
        ``newly_acked`` False when it had been acknowledged before (the first acknowledgement counts)."""
        with self.transaction() as db:
            ids: list[int] = []
            for column in ("fingerprint", "alertname"):
                ids = [r["id"] for r in db.execute(
                    f"SELECT id FROM pages WHERE {column} = ? AND resolved_at IS NULL ORDER BY id", (target,))]
                if ids:
                    break
            if not ids:
                row = db.execute("SELECT id FROM pages WHERE (fingerprint = ? OR alertname = ?) "
                                 "ORDER BY acked_at IS NULL DESC, id DESC LIMIT 1", (target, target)).fetchone()
                ids = [row["id"]] if row else []
            newly: set[int] = set()
            for page_id in ids:
                cur = db.execute("UPDATE pages SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at IS NULL",
                                 (now, by, page_id))
                if cur.rowcount:
                    newly.add(page_id)
                    db.execute("INSERT INTO timeline (page_id, at, kind, detail) VALUES (?, ?, 'ack', ?)",
                               (page_id, now, f"acknowledged by {by}"))
        return [{**self.page(page_id), "newly_acked": page_id in newly} for page_id in ids]

    # -- heartbeat and drills ------------------------------------------------------------------------

    def record_heartbeat(self, now: float) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO heartbeat (id, last_seen, received) VALUES (1, ?, 1) ON CONFLICT (id) "
                       "DO UPDATE SET last_seen = excluded.last_seen, received = received + 1", (now,))

    def last_heartbeat(self) -> float | None:
        rows = self.query("SELECT last_seen FROM heartbeat WHERE id = 1")
        return float(rows[0]["last_seen"]) if rows else None

    def set_drill(self, drill: str | None, now: float) -> None:
        with self.transaction() as db:
            db.execute("UPDATE drills SET ended_at = ? WHERE ended_at IS NULL", (now,))
            if drill is not None:
                db.execute("INSERT INTO drills (drill, started_at) VALUES (?, ?)", (drill, now))

    def current_drill(self) -> dict[str, Any] | None:
        rows = self.query("SELECT drill, started_at FROM drills WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1")
        return dict(rows[0]) if rows else None

    # -- reads ---------------------------------------------------------------------------------------

    def page(self, page_id: int) -> dict[str, Any]:
        return self.pages(page_id=page_id)[0]

    def pages(self, since: float | None = None, status: str | None = None, alertname: str | None = None,
              limit: int = 100, page_id: int | None = None) -> list[dict[str, Any]]:
        """Pages newest first, each with its timeline (oldest event first)."""
        where, params = ["1 = 1"], []
        if page_id is not None:
            where.append("id = ?")
            params.append(page_id)
        if since is not None:
            where.append("paged_at >= ?")
            params.append(since)
        if status == "firing":
            where.append("resolved_at IS NULL")
        elif status == "resolved":
            where.append("resolved_at IS NOT NULL")
        if alertname:
            where.append("alertname = ?")
            params.append(alertname)
        rows = self.query(f"SELECT * FROM pages WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
                          [*params, limit])
        out = [_page_dict(r) for r in rows]
        if out:
            marks = ",".join("?" * len(out))
            events: dict[int, list[dict[str, Any]]] = {p["id"]: [] for p in out}
            for ev in self.query(f"SELECT page_id, at, kind, detail FROM timeline WHERE page_id IN ({marks}) "
                                 "ORDER BY at, id", [p["id"] for p in out]):
                events[ev["page_id"]].append({"at": ev["at"], "kind": ev["kind"], "detail": ev["detail"]})
            for p in out:
                p["timeline"] = events[p["id"]]
        return out

    def active_alerts(self) -> list[dict[str, Any]]:
        rows = self.query("SELECT * FROM alerts WHERE status = 'firing' ORDER BY starts_at DESC")
        return [{**dict(r), "labels": json.loads(r["labels"]), "annotations": json.loads(r["annotations"])}
                for r in rows]

    def events(self, since: float | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self.query("SELECT * FROM notifications WHERE received_at >= ? ORDER BY id LIMIT ?",
                          (since if since is not None else 0.0, limit))
        return [{**dict(r), "labels": json.loads(r["labels"]), "annotations": json.loads(r["annotations"])}
                for r in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """Totals for the metrics: notifications by status, pages by severity, firing alerts."""
        return {
            "notifications": {r[0]: r[1] for r in self.query(
                "SELECT status, count(*) FROM notifications GROUP BY status")},
            "pages": {r[0]: r[1] for r in self.query("SELECT severity, count(*) FROM pages GROUP BY severity")},
            "active": {"firing": self.query("SELECT count(*) FROM alerts WHERE status = 'firing'")[0][0]},
        }


def _page_dict(row: sqlite3.Row) -> dict[str, Any]:
    page = dict(row)
    page["labels"] = json.loads(page["labels"])
    page["annotations"] = annotations = json.loads(page["annotations"])
    page["status"] = "firing" if page["resolved_at"] is None else "resolved"
    page["summary"] = annotations.get("summary", "")
    page["runbook_url"] = annotations.get("runbook_url", annotations.get("runbook", ""))
    return page
