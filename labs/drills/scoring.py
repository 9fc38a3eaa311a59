"""Scoring a drill run: time to detect, time to mitigate, hints, wrong actions -> a 0-100 score.

The rules, with worked examples, are documented in one place for learners: ``runbooks/drills/README.md``
("Scoring"); ``tests/labs/drills/test_scoring.py`` tests each of them. In short:

* time to detect (TTD): injection -> the first page the lab pager received after it, of *any* alert
  (the Watchdog heartbeat aside), or the learner's ``drill ack`` if that came first;
* time to mitigate (TTM): injection -> the first ``drill check`` that passed;
* wrong actions: learner actions the drill does not accept (e.g. a restart when a rollback was needed),
  except an action that exactly undoes the learner's own latest change of the same thing (a revert is
  not a new mistake); and a silence that matches a page of the drill is always wrong -- it hides the
  symptom instead of fixing it.

The score starts at 100: -10 per hint, -10 per wrong action, -1 per started 30 s that TTM exceeds the
drill's estimated minutes (at most -30), and -10 when nothing detected the incident at all (no page, no ack).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from aiops_core.alertmanager import matches
from labs.drills.actions import is_accepted
from labs.drills.journal import Event, Journal
from labs.drills.schema import Drill

HINT_PENALTY = 10
WRONG_ACTION_PENALTY = 10
SLOW_PENALTY_PER_30S = 1
SLOW_PENALTY_MAX = 30
UNDETECTED_PENALTY = 10
HEARTBEAT_ALERTS = frozenset({"Watchdog"})  # always firing by design: never "the page of the incident"
WINDOW_LABELS = ("long_window", "short_window")  # what tells two pages of one burn-rate alert apart


@dataclass
class Score:
    ttd_s: float | None
    detected_by: str  # "page: <alertname>", "ack", or ""
    ttm_s: float | None
    hints: int
    wrong_actions: list[str]
    score: int
    reverted: list[str] = field(default_factory=list)  # learner actions that undid their own earlier one
    pages: list[dict[str, Any]] = field(default_factory=list)  # every page after the injection, in order

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def page_name(page: dict[str, Any]) -> str:
    """``ModelServiceLatencyBudgetBurn [1h/5m]``: the alert name plus the burn windows that tell pages of the
    same alert apart."""
    labels = page.get("labels") or {}
    windows = "/".join(labels[k] for k in WINDOW_LABELS if labels.get(k))
    return f"{page.get('alertname', '?')} [{windows}]" if windows else str(page.get("alertname", "?"))


def pages_after_injection(j: Journal, pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if j.injected_at is None:
        return []
    after = [p for p in pages if (p.get("paged_at") or 0) >= j.injected_at
             and p.get("alertname") not in HEARTBEAT_ALERTS]
    return sorted(after, key=lambda p: p["paged_at"])


def first_page(j: Journal, pages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first page after the injection, whichever alert it was: that is when the learner was told."""
    after = pages_after_injection(j, pages)
    return after[0] if after else None


def _silence_hides_a_page(matchers: list[dict[str, Any]], drill: Drill, pages: list[dict[str, Any]]) -> bool:
    """Does the silence match a page of this drill, or an alert the drill is expected to raise?"""
    label_sets = [p.get("labels") or {"alertname": p.get("alertname", "")} for p in pages
                  if p.get("alertname") not in HEARTBEAT_ALERTS]
    label_sets += [{"alertname": name} for name in drill.expected_alerts]
    return any(matches(matchers, labels) for labels in label_sets)


def judge_actions(j: Journal, drill: Drill, pages: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(wrong actions, reverts) among the learner's actions on the timeline, by the rules above."""
    wrong: list[str] = []
    reverted: list[str] = []
    latest: dict[str, Event] = {}  # target -> the learner's latest change of it
    for e in sorted((e for e in j.events if e.kind == "learner"), key=lambda e: e.at):
        kind, target = e.data.get("action", ""), e.data.get("target")
        if kind == "silence:create":
            if _silence_hides_a_page(e.data.get("matchers", []), drill, pages):
                wrong.append(f"{e.detail} -- hides a page of this incident instead of fixing it")
            continue
        previous = latest.get(target) if target else None
        if (previous is not None and "before" in e.data and e.data.get("before") == previous.data.get("after")
                and e.data.get("after") == previous.data.get("before")):
            reverted.append(f"{e.detail} -- undoes your own earlier change, not counted again")
        elif not is_accepted(kind, drill.accepted_actions):
            wrong.append(e.detail)
        if target:
            latest[target] = e
    return wrong, reverted


def score(j: Journal, drill: Drill, pages: list[dict[str, Any]]) -> Score:
    injected = j.injected_at
    after = pages_after_injection(j, pages)
    candidates: list[tuple[float, str]] = []
    if after:
        candidates.append((after[0]["paged_at"], f"page: {page_name(after[0])}"))
    if j.acked_at is not None:
        candidates.append((j.acked_at, "ack"))
    ttd, detected_by = None, ""
    if candidates and injected is not None:
        at, detected_by = min(candidates)
        ttd = max(0.0, at - injected)
    ttm = (j.passed_at - injected) if (j.passed_at is not None and injected is not None) else None
    wrong, reverted = judge_actions(j, drill, pages)
    points = 100 - HINT_PENALTY * j.hints_used - WRONG_ACTION_PENALTY * len(wrong)
    if ttm is not None:
        over = ttm - drill.estimated_minutes * 60
        if over > 0:
            points -= min(SLOW_PENALTY_MAX, SLOW_PENALTY_PER_30S * (int(over // 30) + 1))
    if ttd is None:
        points -= UNDETECTED_PENALTY
    if j.passed_at is None:
        points = 0
    listed = [{"alert": page_name(p), "severity": p.get("severity", ""),
               "after_s": round(p["paged_at"] - injected, 1) if injected is not None else None,
               "acked_by": p.get("acked_by"),
               "acked_after_s": (round(p["acked_at"] - injected, 1)
                                 if p.get("acked_at") and injected is not None else None)} for p in after]
    return Score(ttd, detected_by, ttm, j.hints_used, wrong, max(0, min(100, points)), reverted, listed)


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
