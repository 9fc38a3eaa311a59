"""What the lab's alerting rules say, read from the rule files themselves (never hard-coded): which alerts
exist, which series the recording rules make, and how long each alert takes to fire.

Two numbers per alert, taken from its fastest rule (the smallest ``for:``):

* ``for_s``: how long the condition must hold;
* ``lookback_s``: the longest range the condition reads, through the recording rules it uses. Traffic from
  an earlier drill on the same lab stays inside that window and dilutes a ratio: a latency burn rate over the
  last 5 lab minutes of *all* requests needs the earlier drill's fast requests to age out before it pages.

From them, the deadlines of a drill's page and of its check: ``aiops-lab drill rehearse`` waits that long,
and so do the end-to-end tests (``tests/labs/drills/timing.py`` adds their load-scaled slack).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aiops_core import durations, paths, yaml_text
from labs.drills.schema import Drill, PromCheck
from labs.pager.heartbeat import ALERTNAME as PAGER_WATCHDOG_ALERT
from monitoring.render import LAB_SPEEDUP, RULES_SOURCE

# How long after an alert's lab-mode ``for:`` + lookback a page may take: rule windows filling with the
# fault's data (rate windows are 1/12 of production, at least four 2 s scrapes), Alertmanager's group_wait,
# the drift monitor's 30 s cycle, and a busy 2-core machine.
PAGE_SLACK_S = 150.0
# ``drill rehearse`` on a learner's machine (one lab, not a pool of seven): a page that has not come this long
# after its rule's ``for:`` and windows allow is not coming -- the verdict "never fired" within two minutes.
REHEARSE_PAGE_SLACK_S = 90.0
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
        for group in (yaml_text.load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    alerts.setdefault(rule["alert"], []).append(rule)
                elif "record" in rule:
                    records.setdefault(rule["record"], []).append(str(rule["expr"]))
    return alerts, records


def alert_names(rules_dir: Path = RULES_SOURCE) -> set[str]:
    """Every alert that can page: the rules' alerts and the pager's own heartbeat page."""
    return set(_load(rules_dir)[0]) | {PAGER_WATCHDOG_ALERT}


def recording_names(rules_dir: Path = RULES_SOURCE) -> set[str]:
    return set(_load(rules_dir)[1])


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


def lab_rules_dir(state: Path | None = None) -> Path:
    """The rules a native lab loaded (rendered into its state dir, lab-mode durations already applied)."""
    return (state or paths.state_dir()) / "run" / "config" / "rules"


def loaded_timings(state: Path | None = None) -> dict[str, AlertTiming]:
    """The timings of the rules the running lab loaded; the source rules divided by the lab speed-up when
    the lab has no rendered rules (a compose lab)."""
    rendered = lab_rules_dir(state)
    return alert_timings(rendered, speedup=1) if rendered.is_dir() else alert_timings()


def page_deadline(drill: Drill, timings: dict[str, AlertTiming], slack_s: float = PAGE_SLACK_S) -> float:
    """The slowest the first expected page may be: the fastest expected alert's ``for:`` plus its lookback
    (an earlier drill's traffic ages out of the window), plus slack."""
    bounds = [timings[a].for_s + timings[a].lookback_s for a in drill.expected_alerts if a in timings]
    return min(bounds) + slack_s if bounds else max(PAGE_DEFAULT_S, slack_s)


def max_hold(drill: Drill) -> float:
    return max((c.hold for c in drill.checks if isinstance(c, PromCheck)), default=0.0)


def check_deadline(drill: Drill, base_s: float = CHECK_BASE_S) -> float:
    """How long after the mitigation the checks may take to pass: the fix taking effect, then each hold."""
    return base_s + 2 * max_hold(drill)
