"""Scoring a drill run: time to detect, time to mitigate, hints, wrong actions -> a 0-100 score.

* time to detect (TTD): injection -> the first page the lab pager received (an expected alert if one
  fired, else any), or the learner's ``drill ack`` if that came first;
* time to mitigate (TTM): injection -> the first ``drill check`` that passed;
* wrong actions: learner actions the drill does not accept (e.g. a restart when a rollback was needed).

The score starts at 100: -10 per hint, -10 per wrong action, -1 per started 30 s that TTM exceeds the
drill's estimated minutes (at most -30), and -10 when nothing detected the incident at all (no page, no ack).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from labs.drills.journal import Journal
from labs.drills.schema import Drill

HINT_PENALTY = 10
WRONG_ACTION_PENALTY = 10
SLOW_PENALTY_PER_30S = 1
SLOW_PENALTY_MAX = 30
UNDETECTED_PENALTY = 10


@dataclass
class Score:
    ttd_s: float | None
    detected_by: str  # "page: <alertname>", "ack", or ""
    ttm_s: float | None
    hints: int
    wrong_actions: list[str]
    score: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def first_page(j: Journal, pages: list[dict[str, Any]], expected: list[str]) -> dict[str, Any] | None:
    """The first page after the injection, preferring the alerts the drill expects."""
    if j.injected_at is None:
        return None
    after = [p for p in pages if (p.get("paged_at") or 0) >= j.injected_at]
    wanted = [p for p in after if p.get("alertname") in expected]
    pool = wanted or [p for p in after if p.get("alertname") != "Watchdog"]
    return min(pool, key=lambda p: p["paged_at"]) if pool else None


def score(j: Journal, drill: Drill, pages: list[dict[str, Any]], wrong_actions: list[str]) -> Score:
    injected = j.injected_at
    page = first_page(j, pages, drill.expected_alerts)
    candidates: list[tuple[float, str]] = []
    if page is not None:
        candidates.append((page["paged_at"], f"page: {page['alertname']}"))
    if j.acked_at is not None:
        candidates.append((j.acked_at, "ack"))
    ttd, detected_by = None, ""
    if candidates and injected is not None:
        at, detected_by = min(candidates)
        ttd = max(0.0, at - injected)
    ttm = (j.passed_at - injected) if (j.passed_at is not None and injected is not None) else None
    points = 100 - HINT_PENALTY * j.hints_used - WRONG_ACTION_PENALTY * len(wrong_actions)
    if ttm is not None:
        over = ttm - drill.estimated_minutes * 60
        if over > 0:
            points -= min(SLOW_PENALTY_MAX, SLOW_PENALTY_PER_30S * (int(over // 30) + 1))
    if ttd is None:
        points -= UNDETECTED_PENALTY
    if j.passed_at is None:
        points = 0
    return Score(ttd, detected_by, ttm, j.hints_used, wrong_actions, max(0, min(100, points)))


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
