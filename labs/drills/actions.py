"""What the learner did during a drill, read from the lab's own records -- not from a special drill log.

The same histories an on-call engineer reads tell the engine what happened: the config change history
(``aiops-lab config set``), the model deployment history (deploy / rollback), new registry versions
(``model train`` / ``retrain``: both register one), process restarts (a component's process or container
started after the drill began, asked of the runtime), the upstream clients' history, and the monitoring
levers (config edits, Prometheus reloads, Alertmanager silences: ``labs.drills.monitoring_levers``). Changes
the engine made itself are excluded by the markers it wrote into the journal.
"""

from __future__ import annotations

import fnmatch
from datetime import datetime
from typing import Any

from labs.drills import monitoring_levers, upstream
from labs.drills.faults import ENGINE_ACTOR
from labs.drills.journal import Action, Journal
from model_service.client import ServiceClient

WATCHED_COMPONENTS = ("model-service", "prometheus", "alertmanager", "pager", "drift-monitor", "traffic-feed")


__all__ = ["Action", "baseline", "detect", "is_accepted"]


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _models_api() -> dict[str, Any] | None:
    """The registry as the running service reports it (versions, active, recent deployments)."""
    client = ServiceClient(actor=ENGINE_ACTOR)
    if not client.reachable():
        return None
    return client.request("GET", "/admin/models", admin=True)


def _started() -> dict[str, float | None]:
    """Start time of each watched component's current process or container (``None``: not there)."""
    from labs.runtime.base import get_runtime

    runtime = get_runtime()
    return {name: runtime.started_at(name) for name in WATCHED_COMPONENTS}


def baseline() -> dict[str, Any]:
    """What to compare against later: when each component started, and the registered versions."""
    models = _models_api() or {"versions": [], "active": None}
    return {"started": _started(), "versions": [v["version"] for v in models["versions"]],
            "active_model": models["active"], **monitoring_levers.snapshot()}


def _config(j: Journal) -> list[Action]:
    client = ServiceClient(actor=ENGINE_ACTOR)
    if not client.reachable():
        return []
    changes = client.request("GET", "/admin/config/history", admin=True, params={"limit": 500})["changes"]
    out = []
    for c in changes:
        at = _ts(c["time"])
        if at < j.started_at or f"config@{c['time']}" in j.engine_changes or c["actor"] == ENGINE_ACTOR:
            continue
        out.append(Action(f"config@{c['time']}", f"config:{c['flag']}", at,
                          f"config set {c['flag']} {c['old']!r} -> {c['new']!r} by {c['actor']}"
                          + (f" ({c['reason']})" if c.get("reason") else ""),
                          {"target": f"config:{c['flag']}", "before": c["old"], "after": c["new"]}))
    return out


def _models(j: Journal) -> list[Action]:
    models = _models_api()
    if models is None:
        return []  # the service is down; its history is read again on the next command
    out = []
    for e in models["history"]:
        at = _ts(e["time"])
        marker = f"deploy@{e['actor']}@{e['version']}"
        if at < j.started_at or marker in j.engine_changes or e["actor"] == ENGINE_ACTOR:
            continue
        out.append(Action(f"deploy@{e['time']}", f"model:{e['action']}", at,
                          f"model {e['action']} {e.get('previous')} -> {e['version']} by {e['actor']}",
                          {"target": "model:active", "before": e.get("previous"), "after": e["version"]}))
    known = set(j.baseline.get("versions", [])) | set(j.injected_versions)
    for v in models["versions"]:
        if v["version"] in known:
            continue
        out.append(Action(f"version@{v['version']}", "model:train", _ts(v["created_at"]),
                          f"trained and registered {v['version']} ({v['description']})"))
    return out


def _restarts(j: Journal, started_now: dict[str, float | None]) -> list[Action]:
    """A component whose process (native) or container (compose) started after the drill began."""
    before = j.baseline.get("started", {})
    out = []
    for name, started in started_now.items():
        if started is None or started <= j.started_at or before.get(name) in (None, started):
            continue
        out.append(Action(f"restart@{name}@{started:.3f}", f"restart:{name}", started,
                          f"{name} restarted (started {datetime.fromtimestamp(started):%H:%M:%S})"))
    return out


def _upstream(j: Journal) -> list[Action]:
    state = upstream.load()
    if state is None:
        return []
    return [Action(f"upstream@{e['ts']}", f"upstream:{e['action']}:{e['client']}", float(e["ts"]),
                   f"{e['client']}: {e['action']} by {e['actor']} ({e['detail']})")
            for e in state.history if f"upstream@{e['ts']}" not in j.engine_changes]


def detect(j: Journal) -> list[Action]:
    """Every learner action since the drill started, oldest first."""
    started = _started()
    found = [*_config(j), *_models(j), *_restarts(j, started), *_upstream(j),
             *monitoring_levers.detect(j, started.get("prometheus"))]
    return sorted(found, key=lambda a: a.at)


def is_accepted(kind: str, accepted: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(kind, pattern) for pattern in accepted)
