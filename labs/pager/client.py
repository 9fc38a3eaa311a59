"""The lab pager's client, used by the CLI and the drill engine (time-to-detect, timelines, drills).

The CLI wants errors (``aiops-lab pager list`` on a stopped lab must say so); the drill engine treats the
pager as optional (TTD falls back to the learner's ``drill ack``), so its methods say "unknown" instead:
``pages_since`` returns None and ``set_drill`` False when the pager does not answer.

Writes (acknowledge, heartbeat, drill marker) carry the lab's bearer token (``labs.pager.auth``).
"""

from __future__ import annotations

import time
from typing import Any

from aiops_core.errors import LabError
from aiops_core.http import ApiClient
from aiops_core.runstate import admin_token
from aiops_core.topology import PAGER


class PagerClient(ApiClient):
    component = PAGER.name

    def __init__(self, base_url: str | None = None, timeout: float = 10.0, token: str | None = None) -> None:
        super().__init__(base_url, timeout)
        self.token = token if token is not None else admin_token()

    def pages(self, since_seconds: float | None = None, status: str | None = None,
              alertname: str | None = None, limit: int = 100, since: float | None = None) -> list[dict[str, Any]]:
        """Pages, newest first; ``since_seconds`` ago or ``since`` (unix seconds), optionally filtered."""
        params: dict[str, Any] = {"limit": limit}
        if since_seconds is not None:
            since = time.time() - since_seconds
        if since is not None:
            params["since"] = f"{since:.3f}"
        if status:
            params["status"] = status
        if alertname:
            params["alertname"] = alertname
        return self.request("GET", "/pages", params=params)

    def active_alerts(self) -> list[dict[str, Any]]:
        return self.request("GET", "/alerts/active")

    def ack(self, target: str, by: str = "cli") -> list[dict[str, Any]]:
        return self.request("POST", "/pages/ack", admin=True, json={"target": target, "by": by})

    def heartbeat(self) -> dict[str, Any]:
        return self.request("GET", "/heartbeat")

    def send_heartbeat(self) -> dict[str, Any]:
        return self.request("POST", "/heartbeat", admin=True)

    # -- best effort, for the drill engine ---------------------------------------------------------------

    def pages_since(self, since: float) -> list[dict[str, Any]] | None:
        """Pages opened at or after ``since`` (unix seconds), oldest first; None when the pager is unreachable."""
        try:
            pages = self.pages(since=since, limit=500)
        except LabError:
            return None
        if not isinstance(pages, list):
            return None
        return sorted((p for p in pages if isinstance(p, dict)), key=lambda p: p.get("paged_at") or 0.0)

    def set_drill(self, drill: str | None) -> bool:
        """Tell the pager which drill runs (None when it ends). False when the pager is not running."""
        try:
            self.request("POST", "/drill", admin=True, json={"drill": drill}, timeout=5.0)
        except LabError:
            return False
        return True

    def ack_open(self, since: float, by: str = "drill-ack") -> list[str]:
        """Acknowledge the open pages opened since ``since``; returns their alert names (best effort)."""
        pages = self.pages_since(since) or []
        acked = []
        for name in sorted({p["alertname"] for p in pages if p.get("status") == "firing" and not p.get("acked_at")}):
            try:
                self.ack(name, by=by)
            except LabError:
                continue
            acked.append(name)
        return acked
