"""Undo a drill: run the journal's rollback actions, newest first, each one idempotent and independent.

Each action checks the current state before it acts (a flag the learner already reverted is left alone), a
failing action does not stop the others, and progress is saved after every step -- so ``drill stop`` can be
run again after a crash and finishes the job.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from aiops_core import paths
from aiops_core.http import component_healthy
from aiops_core.process_group import stop_group
from aiops_core.prometheus import Prometheus
from aiops_core.runstate import RunState, pid_alive
from labs.drills import journal as jr
from labs.drills import upstream
from labs.drills.faults import ENGINE_ACTOR
from labs.drills.journal import Journal, RollbackAction
from labs.stack import labview
from model_service.client import ServiceClient

REASON = "drill stop: restore the pre-drill value"
API_TIMEOUT_S = 30.0  # a saturated service still answers, slowly: never mistake slow for down


def _health(component: str) -> bool:
    state = labview.load()
    rec = state.components.get(component) if state is not None else None
    if rec is None or not rec.health_url:
        return False
    return component_healthy(component, rec.health_url)


def _lab_alive() -> bool:
    state = labview.load()
    return state is not None and state.alive()


def _ensure_running(component: str) -> str:
    """Resume a paused process or container; restart a dead or unresponsive one through the runtime."""
    from labs.runtime.base import RuntimeError_, get_runtime

    if not _lab_alive():
        return f"the lab is not running; {component} starts with the next aiops-lab up"
    runtime = get_runtime()
    with contextlib.suppress(RuntimeError_):
        runtime.resume(component)
    for _ in range(20):
        if _health(component):
            return f"{component} is running"
        time.sleep(0.25)
    try:
        runtime.restart(component)
    except RuntimeError_ as exc:
        raise RuntimeError(f"restart of {component} failed: {exc}") from None
    return f"{component} restarted"


def _service_process_alive() -> bool:
    """Is the model-service process running (slow or paused counts as running: use its API, patiently)?

    On compose a stopped container is started again first: the flags and the registry live in its
    volumes, which only the service itself can write."""
    if labview.is_compose():
        _ensure_running("model-service")
        return True
    state = RunState.load()
    rec = state.components.get("model-service") if state is not None else None
    return rec is not None and rec.state not in ("exited", "stopped", "failed") and pid_alive(rec.pid)


def _client() -> ServiceClient:
    return ServiceClient(actor=ENGINE_ACTOR, timeout=API_TIMEOUT_S)


def _config_flag(params: dict[str, Any]) -> str:
    flag, value = params["flag"], params["value"]
    client = _client()
    if not _service_process_alive():
        # The service is down: fix the persisted flags it will load when it starts.
        from model_service.runtime_config import ConfigStore

        store = ConfigStore(paths.state_dir())
        if getattr(store.current, flag) != value:
            store.set(flag, value, actor=ENGINE_ACTOR, reason=REASON + " (service was down)")
        return f"{flag} = {value!r} (on disk; the service was down)"
    current = client.request("GET", "/admin/config", admin=True)["flags"][flag]
    if current != value:
        client.request("PUT", f"/admin/config/{flag}", admin=True, json={"value": value, "reason": REASON})
        return f"{flag}: {current!r} -> {value!r}"
    return f"{flag} already {value!r}"


def _config_snapshot(params: dict[str, Any]) -> str:
    """Every flag back to its pre-drill value (the learner's experiments included)."""
    changed = [_config_flag({"flag": flag, "value": value}) for flag, value in params["flags"].items()]
    return "; ".join(c for c in changed if "already" not in c) or "flags unchanged"


def _model(params: dict[str, Any]) -> str:
    from model_service.registry import Registry

    version = params.get("version")
    if not version:
        return "no model was active before the drill"
    client = _client()
    if _service_process_alive():
        active = client.request("GET", "/admin/models", admin=True)["active"]
        if active != version:
            # Forced: restoring the pre-drill model is not a promotion, whatever the learner deployed since.
            client.request("POST", "/admin/model/deploy", admin=True, json={"version": version},
                           params={"force": "true"})
            return f"model {active} -> {version}"
        return f"model {version} already active"
    registry = Registry(paths.models_dir())
    if registry.active() != version:
        registry.activate(version, actor=ENGINE_ACTOR, action="deploy")
    return f"model {version} active on disk (the service was down)"


def _process(params: dict[str, Any]) -> str:
    return _ensure_running(params["component"])


def _prometheus_config(params: dict[str, Any]) -> str:
    path = Path(params["path"])
    if path.is_file() and path.read_text() == params["text"]:
        return "prometheus config unchanged"
    path.write_text(params["text"])
    if not _lab_alive():
        return "prometheus config restored (the lab is not running)"
    if Prometheus().reload():
        return "prometheus config restored and reloaded"
    from labs.stack import supervisor

    result = supervisor.request("restart", "prometheus")
    if not result.get("ok"):
        raise RuntimeError(f"prometheus restart failed: {result.get('error') or result.get('detail')}")
    return "prometheus config restored; prometheus restarted"


def _dependency(params: dict[str, Any]) -> str:
    """Clear the provider fault: delete the file natively; through the feed's control API on compose (an
    unreachable feed raises, so the action stays pending and the next ``drill stop`` retries it)."""
    from aiops_core.runstate import admin_token
    from labs.traffic_feed import control, remote

    if "path" in params:
        return "traffic-feed fault cleared" if control.clear(Path(params["path"])) else "traffic-feed already healthy"
    remote.request(params["url"], admin_token(), "DELETE")
    return "traffic-feed fault cleared (control API)"


def is_traffic_process(pid: int) -> bool:
    try:
        return b"labs.drills.traffic" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop_traffic(pid: int | None, timeout: float = 10.0) -> str:
    """Stop the drill's traffic process (checked by its command line: a reused pid is left alone)."""
    stopped = stop_group(pid, is_traffic_process, timeout)
    return "traffic stopped" if stopped else "traffic already stopped"


def _traffic(params: dict[str, Any]) -> str:
    done = stop_traffic(params.get("pid"))
    upstream.reset()
    return done


def _upstream_reset(params: dict[str, Any]) -> str:
    upstream.reset()
    return "upstream clients reset"


def _silences(params: dict[str, Any]) -> str:
    """Expire every active silence created since the drill started (the pre-drill ones are kept)."""
    from aiops_core.alertmanager import Alertmanager
    from aiops_core.errors import LabError

    keep = set(params.get("keep", []))
    try:
        am = Alertmanager(timeout=10.0)
        created = [s for s in am.active_silences() if s["id"] not in keep and s["updated_at"] >= params["since"]]
    except LabError as exc:
        if not _lab_alive():
            return "the lab is not running; no silence to expire"
        raise RuntimeError(f"Alertmanager did not list its silences: {exc}") from None
    expired = [s["id"] for s in created if am.expire(s["id"])]
    return f"expired {len(expired)} silence(s): {', '.join(expired)}" if expired else "no silence to expire"


_HANDLERS = {
    "config_flag": _config_flag, "config_snapshot": _config_snapshot, "model": _model, "process": _process,
    "prometheus_config": _prometheus_config, "silences": _silences,
    "traffic": _traffic, "upstream_reset": _upstream_reset, "dependency": _dependency,
}


def run_one(action: RollbackAction) -> str:
    try:
        handler = _HANDLERS[action.kind]
    except KeyError:
        raise RuntimeError(f"unknown rollback kind {action.kind!r}") from None
    return handler(action.params)


def run_all(j: Journal) -> list[tuple[RollbackAction, str]]:
    """Run every pending rollback, newest first; returns (action, outcome) pairs. Saves after each."""
    outcomes: list[tuple[RollbackAction, str]] = []
    # The traffic goes first: a service saturated by the drill's own load answers the other rollbacks late.
    ordered = [a for a in j.rollbacks if a.kind == "traffic"] + [a for a in reversed(j.rollbacks)
                                                                 if a.kind != "traffic"]
    for action in ordered:
        if action.done:
            continue
        try:
            outcome = run_one(action)
            action.done, action.error = True, ""
        except Exception as exc:  # every rollback must get its turn, whatever one of them raises
            outcome = f"FAILED: {exc}"
            action.error = str(exc)
        j.add("rollback", f"{action.description}: {outcome}")
        jr.save(j)
        outcomes.append((action, outcome))
    return outcomes
