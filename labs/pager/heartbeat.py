"""The dead-man's switch: Alertmanager's always-firing Watchdog must keep arriving, or the pager pages.

If Prometheus, the rules or Alertmanager break, no alert can reach anyone -- and silence looks exactly like
health. The Watchdog alert (``expr: vector(1)``) is routed to ``POST /heartbeat`` with a short repeat
interval; when it stops for ``timeout_s`` the pager raises its own page, ``WatchdogHeartbeatMissing``.

The switch arms on the first heartbeat ever received (a pager running without Alertmanager, as in unit
tests or a partial lab, is not an outage), and after a pager restart it gives Alertmanager one full timeout
to re-deliver before judging, so restarting the lab does not page.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from labs.pager.store import PagerStore

ALERTNAME = "WatchdogHeartbeatMissing"
FINGERPRINT = "pager-watchdog-heartbeat"
SEVERITY = "page"
RUNBOOK_URL = "runbooks/WatchdogHeartbeatMissing.md"


class HeartbeatMonitor:
    """Keeps the last heartbeat in memory (cheap to check on every request) and in the store (durable)."""

    def __init__(self, store: PagerStore, timeout_s: float, now: float | None = None) -> None:
        if timeout_s <= 0:
            raise ValueError(f"heartbeat timeout must be > 0 seconds, got {timeout_s}")
        self.store = store
        self.timeout_s = timeout_s
        self.started_at = time.time() if now is None else now
        self.last_seen = store.last_heartbeat()
        self._lock = threading.Lock()

    def beat(self, now: float | None = None) -> None:
        """Record a heartbeat and resolve an open missing-heartbeat page."""
        now = time.time() if now is None else now
        with self._lock:
            self.store.record_heartbeat(now)
            self.last_seen = now
            self.store.resolve_open(FINGERPRINT, now, "heartbeat received again")

    def age(self, now: float | None = None) -> float | None:
        """Seconds since the last heartbeat, or None if none was ever received."""
        if self.last_seen is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.last_seen)

    def status(self, now: float | None = None) -> dict[str, Any]:
        age = self.age(now)
        return {"last_seen": self.last_seen, "age_seconds": age, "timeout_seconds": self.timeout_s,
                "healthy": age is not None and age <= self.timeout_s}

    def check(self, now: float | None = None) -> int | None:
        """Page if the heartbeat is overdue; returns the new page's id (None: healthy, unarmed or paged)."""
        now = time.time() if now is None else now
        last = self.last_seen
        if last is None:
            return None
        judged_from = max(last, self.started_at)
        if now - judged_from <= self.timeout_s:
            return None
        with self._lock:
            if self.last_seen != last:  # a heartbeat arrived while we were deciding
                return None
            minutes = self.timeout_s / 60
            annotations = {
                "summary": "No Watchdog heartbeat from Alertmanager: alerts may not be delivered",
                "description": f"The pager has not received the Watchdog heartbeat for more than "
                f"{self.timeout_s:g} s ({minutes:.1f} min). Prometheus, its alerting rules or Alertmanager "
                "may be down, so other alerts would not reach you either.",
                "runbook_url": RUNBOOK_URL,
            }
            labels = {"alertname": ALERTNAME, "severity": SEVERITY, "source": "pager"}
            return self.store.open_synthetic_page(FINGERPRINT, labels, annotations, judged_from + self.timeout_s,
                                                  now)
