"""What the drill engine needs from the lab pager: pages received since the injection, and telling it which
drill runs. The pager is optional: when it is not running, TTD falls back to the learner's ``drill ack``.
"""

from __future__ import annotations

from typing import Any

import httpx

from labs.stack.runstate import component_url


def pager_url() -> str:
    return component_url("pager")


def pages_since(since: float) -> list[dict[str, Any]] | None:
    """Pages opened at or after ``since`` (unix seconds), oldest first; None when the pager is unreachable."""
    try:
        resp = httpx.get(pager_url() + "/pages", params={"since": f"{since:.3f}", "limit": 500}, timeout=5.0)
        if resp.status_code != 200:
            return None
        body = resp.json()
    except (httpx.HTTPError, ValueError):
        return None
    pages = body.get("pages", body) if isinstance(body, dict) else body
    if not isinstance(pages, list):
        return None
    return sorted((p for p in pages if isinstance(p, dict)), key=lambda p: p.get("paged_at") or 0.0)


def set_drill(drill: str | None) -> bool:
    """POST /drill {"drill": id} (or null when it ends). False when the pager is not running."""
    try:
        return httpx.post(pager_url() + "/drill", json={"drill": drill}, timeout=5.0).status_code < 300
    except httpx.HTTPError:
        return False


def ack_open(since: float, by: str = "drill-ack") -> list[str]:
    """Acknowledge the pager's open pages opened since ``since``; returns their alert names (best effort)."""
    pages = pages_since(since) or []
    acked = []
    for name in sorted({p["alertname"] for p in pages if p.get("status") == "firing" and not p.get("acked_at")}):
        try:
            if httpx.post(pager_url() + "/pages/ack", json={"target": name, "by": by}, timeout=5.0).status_code < 300:
                acked.append(name)
        except httpx.HTTPError:
            continue
    return acked
