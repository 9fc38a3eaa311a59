"""How long a drill may take, read from the alerting rules and the catalogue (never hard-coded).

Two numbers per alert, taken from its fastest rule (the smallest ``for:``):

* ``for_s``: how long the condition must hold;
* ``lookback_s``: the longest range the condition reads, through the recording rules it uses. Traffic from
  an earlier drill on the same lab stays inside that window and dilutes a ratio: a latency burn rate over the
  last 5 lab minutes of *all* requests needs the earlier drill's fast requests to age out before it pages.

From them and the drill: the deadlines of the page and of the check, how long a lab must have been quiet
before a drill whose fix retrains on recent traffic, and the estimate the pool sorts by (longest first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from aiops_core import durations
from labs.drills.schema import Drill, PromCheck
from monitoring.render import LAB_SPEEDUP, RULES_SOURCE
from tests.labs.drills.lab import Lab
from tests.labs.drills.plan import Plan
from tests.support.speed import scaled

# How long after an alert's lab-mode ``for:`` a page may take: rule windows filling with the fault's data
# (rate windows are 1/12 of production, at least four 2 s scrapes), Alertmanager's group_wait, the drift
# monitor's 30 s cycle, and a busy 2-core machine.
PAGE_SLACK_S = 150.0
PAGE_DEFAULT_S = 240.0  # an alert that is not a Prometheus rule (the pager's own heartbeat page: 120 s)
# A check must hold for ``hold`` seconds after the fix takes effect; the fix itself (a restart, a retrain,
# the drift monitor's next cycle) and the check's 15 s rate windows need the rest.
CHECK_BASE_S = 120.0

_RANGE = re.compile(rf"\[({durations.PROM_DURATION})(?::[^\]]*)?\]")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


@dataclass(frozen=True)
class AlertTiming:
    for_s: float
    lookback_s: float


def _load(rules_dir: Path) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
    alerts: dict[str, list[dict]] = {}
    records: dict[str, list[str]] = {}
    for path in sorted(Path(rules_dir).glob("*.yml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    alerts.setdefault(rule["alert"], []).append(rule)
                elif "record" in rule:
                    records.setdefault(rule["record"], []).append(str(rule["expr"]))
    return alerts, records


def _lookback_ms(expr: str, records: dict[str, list[str]], seen: frozenset[str] = frozenset()) -> int:
    ranges = [durations.parse_ms(m.group(1)) for m in _RANGE.finditer(expr)]
    for name in set(_NAME.findall(expr)) & (set(records) - seen):
        ranges += [_lookback_ms(e, records, seen | {name}) for e in records[name]]
    return max(ranges, default=0)


def alert_timings(rules_dir: Path = RULES_SOURCE, speedup: int = LAB_SPEEDUP) -> dict[str, AlertTiming]:
    """alertname -> timing of its fastest rule; ``speedup`` 12 for the source rules, 1 for rendered ones."""
    alerts, records = _load(rules_dir)
    out = {}
    for name, rules in alerts.items():
        fastest = min(rules, key=lambda r: durations.parse_ms(str(r.get("for", "0s"))))
        for_ms = durations.parse_ms(str(fastest.get("for", "0s")))
        out[name] = AlertTiming(for_ms / 1000 / speedup, _lookback_ms(str(fastest["expr"]), records) / 1000 / speedup)
    return out


# --- a drill's deadlines and estimate ----------------------------------------------------------------------


def page_timeout(lab: Lab, drill: Drill) -> float:
    """The slowest a page may be: the alert's ``for:`` plus its lookback (an earlier drill's traffic on this lab
    ages out of the window), plus slack, for the fastest of the drill's expected alerts."""
    known = alert_timings(lab.state / "run" / "config" / "rules", speedup=1)  # what this lab loaded
    bounds = [known[a].for_s + known[a].lookback_s for a in drill.expected_alerts if a in known]
    # The rules' clocks are wall time; only the slack (scrapes, evaluation, CLI start-up) stretches with load.
    return min(bounds) + scaled(PAGE_SLACK_S) if bounds else scaled(PAGE_DEFAULT_S)


def check_timeout(drill: Drill, plan: Plan) -> float:
    if plan.check_timeout_s is not None:
        return plan.check_timeout_s
    return scaled(CHECK_BASE_S) + 2 * max_hold(drill)


def max_hold(drill: Drill) -> float:
    return max((c.hold for c in drill.checks if isinstance(c, PromCheck)), default=0.0)


_SINCE = re.compile(r"--since\s+(\S+)")


def retrain_window_s(drill: Drill) -> float:
    """The longest ``--since`` of a retrain in the drill's mitigation: that much of the lab's recent traffic
    becomes training data, so it must be this drill's own."""
    windows = [durations.parse_seconds(m.group(1)) for line in drill.debrief.mitigation
               if "model retrain" in line and (m := _SINCE.search(line))]
    windows += [24 * 3600.0 for line in drill.debrief.mitigation if "model retrain" in line and "--since" not in line]
    return max(windows, default=0.0)


def quiet_window_s(drill: Drill, plan: Plan, timings: dict[str, AlertTiming]) -> float:
    """How long the lab must have been without other drill traffic: a retrain's ``--since`` window (that
    traffic becomes training data) and, for a ``quiet_lab`` plan, the lookback of the drill's alert."""
    lookbacks = [timings[a].lookback_s for a in drill.expected_alerts if a in timings] if plan.quiet_lab else []
    return max([retrain_window_s(drill), *lookbacks])


def estimated_seconds(drill: Drill, plan: Plan, timings: dict[str, AlertTiming]) -> float:
    """For longest-first scheduling: start, the page (its ``for:``, or an earlier drill's traffic ageing out
    of its lookback window), a wrong move, a retrain, the check's hold, report and stop."""
    pages = [max(timings[a].for_s + 40.0, timings[a].lookback_s / 3) for a in drill.expected_alerts if a in timings]
    page = min(pages) if pages else (110.0 if drill.expected_alerts else 5.0)
    extra = (40.0 if retrain_window_s(drill) else 0.0) + (35.0 if plan.wrong_move else 0.0)
    return 10.0 + page + extra + 25.0 + 2 * max_hold(drill) + 15.0
