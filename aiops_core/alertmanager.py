"""The lab's client for Alertmanager's v2 API: silences (list, expire), alerts (with what silences them).

A silence is a lever like any other: it hides a page without fixing anything. The drill engine puts the
silences a learner creates on the timeline and expires them when the drill stops, and ``aiops-lab status``
shows which alerts are silenced -- so this client exists in the core, next to the Prometheus one.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

from aiops_core.errors import LabError
from aiops_core.http import ApiClient


def _ts(iso: str) -> float:
    # Alertmanager writes RFC 3339 with nanoseconds and "Z"; fromisoformat takes at most microseconds.
    iso = re.sub(r"(\.\d{6})\d+", r"\1", iso.replace("Z", "+00:00"))
    return datetime.fromisoformat(iso).timestamp()


def matcher_text(matchers: list[dict[str, Any]]) -> str:
    """``{alertname="X",severity=~"page"}`` as amtool and the Prometheus docs write it."""
    ops = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}
    return "{" + ",".join(f'{m["name"]}{ops[(bool(m.get("isRegex")), m.get("isEqual", True) is not False)]}'
                          f'"{m["value"]}"' for m in matchers) + "}"


def matches(matchers: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    """Would a silence with these matchers silence an alert with these labels (Alertmanager's semantics:
    every matcher must hold; regexes are anchored; a missing label is the empty string)?"""
    for m in matchers:
        value = labels.get(m["name"], "")
        hit = re.fullmatch(m["value"], value) is not None if m.get("isRegex") else value == m["value"]
        if hit != (m.get("isEqual", True) is not False):
            return False
    return True


class Alertmanager(ApiClient):
    component: ClassVar[str] = "alertmanager"
    live_path: ClassVar[str] = "/-/healthy"

    def silences(self) -> list[dict[str, Any]]:
        """Every silence Alertmanager knows (active, pending and expired), with ``created_at``/``ends_at`` as
        unix seconds added. Alertmanager keeps no creation time: ``startsAt`` is when it takes effect, which
        ``amtool silence add`` and the API set to now unless told otherwise."""
        out = []
        for s in self.request("GET", "/api/v2/silences", timeout=5.0):
            s["starts_at"], s["ends_at"], s["updated_at"] = (_ts(s["startsAt"]), _ts(s["endsAt"]),
                                                             _ts(s.get("updatedAt") or s["startsAt"]))
            out.append(s)
        return out

    def active_silences(self) -> list[dict[str, Any]]:
        return [s for s in self.silences() if s.get("status", {}).get("state") in ("active", "pending")]

    def expire(self, silence_id: str) -> bool:
        """Expire one silence; False when it is already gone or expired (Alertmanager answers 404/500)."""
        try:
            self.request("DELETE", f"/api/v2/silence/{silence_id}", timeout=5.0)
        except LabError:
            return False
        return True

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts as Alertmanager holds them; ``status.state`` is active/suppressed, ``status.silencedBy``
        lists silence ids (``status.inhibitedBy`` alert fingerprints)."""
        return list(self.request("GET", "/api/v2/alerts", timeout=5.0))
