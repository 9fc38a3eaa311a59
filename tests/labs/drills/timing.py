"""How long a drill may take, read from the alerting rules and the catalogue (never hard-coded).

Two numbers per alert, taken from its fastest rule (the smallest ``for:``):

* ``for_s``: how long the condition must hold;
* ``lookback_s``: the longest range the condition reads, through the recording rules it uses. Traffic from
  an earlier drill on the same lab stays inside that window and dilutes a ratio: a latency burn rate over the
  last 5 lab minutes of *all* requests needs the earlier drill's fast requests to age out before it pages.

From them and the drill: the deadlines of the page and of the check, how long a lab must have been quiet
before a drill whose fix retrains on recent traffic, and the estimate the pool sorts by (longest first).
The timings and the deadlines themselves are product code (``labs.drills.alert_rules``): ``aiops-lab drill
rehearse`` waits by the same numbers; the tests add slack that stretches with the machine's load.
"""

from __future__ import annotations

import re

from aiops_core import durations
from labs.drills.alert_rules import (
    CHECK_BASE_S,
    PAGE_SLACK_S,
    AlertTiming,
    alert_timings,
    check_deadline,
    lab_rules_dir,
    max_hold,
    page_deadline,
)
from labs.drills.schema import Drill
from tests.labs.drills.lab import Lab
from tests.labs.drills.plan import Plan
from tests.support.speed import scaled

__all__ = ["AlertTiming", "alert_timings", "check_timeout", "estimated_seconds", "max_hold", "page_timeout",
           "quiet_window_s", "retrain_window_s"]


# --- a drill's deadlines and estimate ----------------------------------------------------------------------


def page_timeout(lab: Lab, drill: Drill) -> float:
    """``labs.drills.alert_rules.page_deadline`` on the rules this lab loaded. The rules' clocks are wall
    time; only the slack (scrapes, evaluation, CLI start-up) stretches with load."""
    known = alert_timings(lab_rules_dir(lab.state), speedup=1)
    return page_deadline(drill, known, slack_s=scaled(PAGE_SLACK_S))


def check_timeout(drill: Drill, plan: Plan) -> float:
    if plan.check_timeout_s is not None:
        return plan.check_timeout_s
    return check_deadline(drill, base_s=scaled(CHECK_BASE_S))


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
