"""What is a page: one firing episode of one alert, the pair (fingerprint, ``startsAt``).

Alertmanager repeats a firing alert every ``repeat_interval`` and retries deliveries it thinks failed, so the
same episode arrives many times; only its first firing notification opens a page. A later ``startsAt`` for
the same fingerprint is a new episode (the alert resolved and fired again, even if the resolved notification
was never sent). Notifications older than the page they belong to are logged but change nothing. Each
alert's own ``status`` counts, never the group's.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from labs.pager.schemas import WebhookAlert

# Timestamps at or before this are Alertmanager's "not set" (0001-01-01) and are stored as NULL.
_UNSET_BEFORE = 0.0
# startsAt values are compared with a tolerance: they round-trip through float seconds.
_SAME_EPISODE_S = 1e-3


def unix(value: datetime | None) -> float | None:
    """Unix seconds, or None for a missing or "zero" Alertmanager time."""
    if value is None:
        return None
    ts = value.timestamp()
    return ts if ts > _UNSET_BEFORE else None


def severity_of(labels: dict[str, str]) -> str:
    return labels.get("severity") or "none"


def apply(db: sqlite3.Connection, receiver: str, group_key: str, alert: WebhookAlert, now: float) -> str:
    """Apply one alert of a notification inside the caller's transaction; returns its effect:
    paged | repeat | resolved | stale | duplicate | resolved-unpaged."""
    fp = alert.fingerprint
    starts, ends = unix(alert.startsAt), unix(alert.endsAt)
    starts = starts if starts is not None else now
    latest = db.execute("SELECT id, starts_at, resolved_at FROM pages WHERE fingerprint = ? "
                        "ORDER BY id DESC LIMIT 1", (fp,)).fetchone()
    older = latest is not None and starts < latest["starts_at"] - _SAME_EPISODE_S
    same = latest is not None and abs(starts - latest["starts_at"]) <= _SAME_EPISODE_S
    is_open = latest is not None and latest["resolved_at"] is None
    page_id = latest["id"] if same else None
    if older:
        effect = "stale"  # a delayed notification about an episode that is already over
    elif same:
        if alert.status == "firing" and is_open:
            effect = "repeat"
            db.execute("UPDATE pages SET notifications = notifications + 1, annotations = ? WHERE id = ?",
                       (json.dumps(alert.annotations), page_id))
        elif alert.status == "resolved" and is_open:
            effect = "resolved"
            resolve(db, latest["id"], ends if ends is not None else now, "resolved by alertmanager")
        else:  # a retried notification that arrived after the episode's resolution
            effect = "stale" if alert.status == "firing" else "duplicate"
    else:
        if is_open:
            # The previous episode ended without a resolved notification (send_resolved: false, or a
            # pager outage longer than Alertmanager's retries).
            resolve(db, latest["id"], starts, "superseded by a newer episode of the same alert")
        if alert.status == "firing":
            page_id = open_page(db, fp, alert.labels, alert.annotations, starts, now, "alertmanager")
            effect = "paged"
        else:
            effect = "resolved-unpaged"  # resolved before the pager ever saw it fire
    if page_id is not None and effect in ("repeat", "stale", "duplicate"):
        db.execute("INSERT INTO timeline (page_id, at, kind, detail) VALUES (?, ?, ?, ?)",
                   (page_id, now, effect, f"{alert.status} notification via {receiver}"))
    labels, annotations = json.dumps(alert.labels, sort_keys=True), json.dumps(alert.annotations)
    name, severity = alert.labels["alertname"], severity_of(alert.labels)
    if effect not in ("stale", "duplicate"):
        db.execute(
            "INSERT INTO alerts (fingerprint, alertname, severity, status, starts_at, ends_at, labels, "
            "annotations, first_seen, last_notified, page_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (fingerprint) DO UPDATE SET status = excluded.status, starts_at = excluded.starts_at, "
            "ends_at = excluded.ends_at, labels = excluded.labels, annotations = excluded.annotations, "
            "last_notified = excluded.last_notified, page_id = coalesce(excluded.page_id, alerts.page_id)",
            (fp, name, severity, alert.status, starts, ends, labels, annotations, now, now, page_id))
    db.execute(
        "INSERT INTO notifications (received_at, receiver, group_key, fingerprint, alertname, severity, "
        "status, starts_at, ends_at, labels, annotations, page_id, effect) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (now, receiver, group_key, fp, name, severity, alert.status, starts, ends, labels,
         annotations, page_id, effect))
    return effect


def open_page(db: sqlite3.Connection, fingerprint: str, labels: dict[str, str], annotations: dict[str, str],
              starts_at: float, now: float, source: str) -> int:
    """Open a page and start its timeline; ``source`` is "alertmanager" or "pager" (synthetic pages)."""
    cur = db.execute(
        "INSERT INTO pages (fingerprint, alertname, severity, source, labels, annotations, starts_at, "
        "paged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (fingerprint, labels["alertname"], severity_of(labels), source, json.dumps(labels, sort_keys=True),
         json.dumps(annotations), starts_at, now))
    page_id = int(cur.lastrowid or 0)
    db.execute("INSERT INTO timeline (page_id, at, kind, detail) VALUES (?, ?, 'paged', ?)",
               (page_id, now, f"first firing notification from {source}"))
    return page_id


def resolve(db: sqlite3.Connection, page_id: int, at: float, detail: str) -> None:
    db.execute("UPDATE pages SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL", (at, page_id))
    db.execute("INSERT INTO timeline (page_id, at, kind, detail) VALUES (?, ?, 'resolved', ?)",
               (page_id, at, detail))
