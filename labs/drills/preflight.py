"""Before a drill starts: is the lab running, healthy, and in its normal state?

A drill on an already-broken lab scores nonsense: a flag left over from the last incident is part of the
"cause", and an alert still firing from it never pages again for the new one (same episode), so time to
detect could not be measured. Each refusal names the command that fixes it, and ``--force`` skips the
state checks.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiops_core import paths, yaml_text
from aiops_core.alertmanager import Alertmanager, matcher_text
from aiops_core.durations import parse_seconds
from aiops_core.errors import ExitStatus, LabError
from aiops_core.http import component_healthy
from aiops_core.prometheus import PromError, Prometheus
from aiops_core.runstate import RunState, component_url
from labs.drills import journal as jr
from labs.drills.faults import ENGINE_ACTOR
from labs.drills.schema import Drill
from labs.stack import labview


def flags() -> dict[str, Any]:
    from model_service.client import ServiceClient

    return ServiceClient(actor=ENGINE_ACTOR).request("GET", "/admin/config", admin=True)["flags"]


def dirty_flags() -> list[str]:
    """Commands that reset the flags differing from their defaults."""
    from model_service.runtime_config import RuntimeConfig

    current = flags()
    defaults = RuntimeConfig().model_dump()
    return [f"aiops-lab config set {k} {json.dumps(defaults[k])}" for k, v in current.items()
            if k in defaults and v != defaults[k]]


SLO_ALERT_RULES = paths.REPO_ROOT / "monitoring" / "prometheus" / "rules" / "slo-alerts.yml"


def page_windows() -> dict[str, float]:
    """Burn-rate alert -> the long window (nominal seconds) of its fastest *page* (1h for the 14.4x pair)."""

    out: dict[str, float] = {}
    for group in yaml_text.load(SLO_ALERT_RULES.read_text())["groups"]:
        for rule in group["rules"]:
            labels = rule.get("labels") or {}
            if "alert" in rule and labels.get("severity") == "page" and labels.get("long_window"):
                window = parse_seconds(labels["long_window"])
                out[rule["alert"]] = min(out.get(rule["alert"], window), window)
    return out


def settle_seconds(drill: Drill, speedup: float, now: float | None = None) -> float:
    """How long the page windows of this drill's burn-rate alerts still hold the previous drill's traffic.

    A burn rate is a ratio over the window: requests the previous drill sent (fast and healthy after its
    fix) dilute this drill's bad ones, so the same fault pages minutes later on a reused lab than on a
    fresh one (latency-regression: ~24 s fresh, ~5 min right after an 8 req/s drill). Once that traffic has
    left the long window, a reused lab behaves like a fresh one. 0 when nothing is left in it."""
    windows = [w / speedup for name, w in page_windows().items() if name in drill.expected_alerts]
    last = jr.load_run()
    if not windows or last is None or last.status == "running":
        return 0.0
    ended = last.stopped_at or last.passed_at
    if ended is None:
        return 0.0
    return max(0.0, min(windows) - ((now or time.time()) - ended))


def leftover_silences() -> list[str]:
    """Active silences, as ``<id> <matchers> (by <who>)``: a silence left from an earlier incident could hide
    this drill's page, and a learner would never know why nothing paged."""
    try:
        silences = Alertmanager(timeout=5.0).active_silences()
    except LabError:
        return []
    return [f"{s['id']} {matcher_text(s['matchers'])} (by {s.get('createdBy') or '?'})" for s in silences]


def other_pages_firing(drill: Drill) -> list[str]:
    """Page-severity alerts still firing from an earlier incident that this drill does not expect: they do
    not block it, but the learner should know the pager is not quiet."""
    try:
        alerts = Prometheus().alerts()
    except PromError:
        return []
    return sorted({a["labels"].get("alertname", "") for a in alerts
                   if a.get("state") == "firing" and a["labels"].get("severity") == "page"
                   and a["labels"].get("alertname") not in drill.expected_alerts})


def still_firing(drill: Drill) -> dict[str, str]:
    """Expected alerts of this drill already firing or pending from an earlier incident -> their highest
    severity. An alert that is still firing never pages again for this drill (same episode)."""
    try:
        alerts = Prometheus().alerts()
    except PromError:
        return {}
    out: dict[str, str] = {}
    for alert in alerts:
        name, severity = alert["labels"].get("alertname", ""), alert["labels"].get("severity", "")
        if name in drill.expected_alerts and out.get(name) != "page":
            out[name] = severity
    return out


# Faults that change files the compose stack mounts read-only from the repo (the rendered Prometheus config
# natively lives in the state dir; in compose it is monitoring/compose/<mode>/, shared by every learner).
NATIVE_ONLY_FAULTS = {
    "scrape_target": "it pushes a broken Prometheus scrape config, and the compose stack mounts that "
                     "config read-only from the repo",
}


def require_lab() -> RunState:
    state = labview.load()
    if state is None or not state.alive():
        raise LabError(labview.not_running_hint(), ExitStatus.NOT_RUNNING)
    svc = state.components.get("model-service")
    if svc is None or not component_healthy("model-service", svc.health_url, timeout=3.0):
        raise LabError("the model service is not healthy; fix that first (aiops-lab status, "
                       "aiops-lab service restart)", ExitStatus.NOT_RUNNING)
    return state


def check(drill: Drill, force: bool) -> list[str]:
    """Raise a LabError naming the fix when the lab cannot run ``drill`` now; return warnings otherwise.

    A leftover *page* blocks (the drill's page could not arrive); a leftover ticket only warns: burn-rate
    alerts leave their slow-window ticket firing long after the fast page resolved, and that must not lock
    a drill out for half an hour.
    """
    if labview.is_compose():
        for fault in drill.faults:
            if fault.type in NATIVE_ONLY_FAULTS:
                raise LabError(f"drill {drill.id} runs on the native lab only: {NATIVE_ONLY_FAULTS[fault.type]}; "
                               "run it with: aiops-lab up -d && aiops-lab drill start " + drill.id,
                               ExitStatus.CONFLICT)
    state = require_lab()
    if force:
        return []
    if state.mode != "lab":
        raise LabError(f"the lab runs in {state.mode} mode; drills are timed for lab mode (2 s scrapes, alert "
                       "delays divided by 12): restart it with aiops-lab down && aiops-lab up -d --mode lab, or "
                       "start anyway with --force", ExitStatus.CONFLICT)
    dirty = dirty_flags()
    if dirty:
        raise LabError("the lab is not in its normal state (runtime flags changed); reset them first, or start "
                       "anyway with --force:\n  " + "\n  ".join(dirty), ExitStatus.CONFLICT)
    silences = leftover_silences()
    if silences:
        url = component_url("alertmanager")
        raise LabError("a silence from earlier is still active and could hide this drill's page; expire it first "
                       f"(amtool --alertmanager.url={url} silence expire ID, or curl -X DELETE "
                       f"{url}/api/v2/silence/ID), or start anyway with --force:\n  " + "\n  ".join(silences),
                       ExitStatus.CONFLICT)
    firing = still_firing(drill)
    pages = sorted(name for name, severity in firing.items() if severity == "page")
    if pages:
        raise LabError(f"{', '.join(pages)} is still firing from an earlier incident, so this drill could not "
                       "page you; wait until it resolves (aiops-lab status), or start anyway with --force",
                       ExitStatus.CONFLICT)
    notes = [f"{name} ({severity or 'no severity'}) is still firing from an earlier incident; it will not page "
             "again for this drill" for name, severity in sorted(firing.items())]
    notes += [f"{name} is still settling from an earlier incident (its page is open in the pager; it is not "
              "part of this drill)" for name in other_pages_firing(drill)]
    return notes
