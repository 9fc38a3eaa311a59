"""Before a drill starts: is the lab running, healthy, and in its normal state?

A drill on an already-broken lab scores nonsense: a flag left over from the last incident is part of the
"cause", and an alert still firing from it never pages again for the new one (same episode), so time to
detect could not be measured. Each refusal names the command that fixes it, and ``--force`` skips the
state checks.
"""

from __future__ import annotations

import json
from typing import Any

from aiops_core.errors import ExitStatus, LabError
from aiops_core.http import healthy
from aiops_core.prometheus import PromError, Prometheus
from aiops_core.runstate import RunState
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
    if svc is None or not healthy(svc.health_url, timeout=3.0):
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
    firing = still_firing(drill)
    pages = sorted(name for name, severity in firing.items() if severity == "page")
    if pages:
        raise LabError(f"{', '.join(pages)} is still firing from an earlier incident, so this drill could not "
                       "page you; wait until it resolves (aiops-lab status), or start anyway with --force",
                       ExitStatus.CONFLICT)
    return [f"{name} ({severity or 'no severity'}) is still firing from an earlier incident; it will not page "
            "again for this drill" for name, severity in sorted(firing.items())]
