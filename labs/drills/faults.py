"""Fault injection: each fault looks like a real cause and is fixed with a real lever.

Every injection follows the same order: work out how to undo it, write that into the journal (fsync'd),
*then* inject, then record the injection on the timeline. If the CLI dies between the two writes, the
journal already holds a rollback that is safe to run even though nothing was injected.
"""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from aiops_core import yaml_text
from aiops_core.errors import LabError
from aiops_core.http import component_healthy
from aiops_core.prometheus import Prometheus
from labs.drills import candidates, monitoring_levers, upstream
from labs.drills import journal as jr
from labs.drills.fault_types import (
    BadModelFault,
    ConfigFlagFault,
    DataShiftFault,
    DependencyFault,
    Fault,
    ProcessFault,
    ScrapeTargetFault,
    StaleModelFault,
    TrafficSurgeFault,
    UpstreamReleaseFault,
    UpstreamStallFault,
)
from labs.drills.journal import Journal, RollbackAction
from model_service.client import ServiceClient

ENGINE_ACTOR = "drill-engine"


class FaultError(LabError):
    """An injection could not be done; the drill is rolled back and the message says why."""


def _plan(j: Journal, action: RollbackAction) -> None:
    """Record how to undo an injection -- once: the drill start already plans "re-activate the pre-drill
    model", and a bad deploy planning the same would make ``drill stop`` do (and print) it twice."""
    if any(a.kind == action.kind and a.params == action.params and not a.done for a in j.rollbacks):
        return
    j.rollbacks.append(action)
    jr.save(j)


def _closed_port() -> int:
    """A loopback port nothing listens on (bound and released), for a scrape target that goes nowhere."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config_flag(j: Journal, f: ConfigFlagFault) -> str:
    current = ServiceClient(actor=ENGINE_ACTOR).request("GET", "/admin/config", admin=True)["flags"][f.flag]
    _plan(j, RollbackAction(kind="config_flag", params={"flag": f.flag, "value": current},
                            description=f"restore {f.flag} to {current!r}"))
    entry = ServiceClient(actor=f.actor).request("PUT", f"/admin/config/{f.flag}", admin=True,
                                                 json={"value": f.value, "reason": f.reason})
    j.engine_changes.append(f"config@{entry['time']}")
    return f"config {f.flag}: {entry['old']!r} -> {entry['new']!r} by {f.actor} ({f.reason})"


def _deploy(j: Journal, version: str, actor: str) -> None:
    # Forced past the promotion gate: the drill releases a bad or stale model on purpose (the fault).
    ServiceClient(actor=actor).request("POST", "/admin/model/deploy", admin=True, json={"version": version},
                                       params={"force": "true"})
    j.injected_versions.append(version)
    j.engine_changes.append(f"deploy@{actor}@{version}")


def _model_rollback(j: Journal) -> None:
    previous = ServiceClient(actor=ENGINE_ACTOR).request("GET", "/admin/models", admin=True)["active"]
    _plan(j, RollbackAction(kind="model", params={"version": previous},
                            description=f"re-activate model {previous}"))


def _push(body: dict[str, Any], actor: str) -> str:
    """Register a candidate in the *service's* registry through the admin API (``POST /admin/model/upload``).

    Not a local file write: the compose lab's registry is a container volume the host cannot see, and a
    release reaching the service through its API is what a real pipeline does too."""
    return ServiceClient(actor=actor, timeout=60.0).request("POST", "/admin/model/upload", admin=True,
                                                            json=body)["version"]


def _stale_seed(age_days: float) -> int:
    return 7000 + int(age_days)  # fixed per age, so the candidate is built once per machine


def candidate_specs(fault: Fault) -> list[dict[str, Any]]:
    """The candidate models a fault releases (``labs.drills.candidates`` builds and caches them)."""
    if isinstance(fault, BadModelFault):
        return [{"seed": fault.seed, "corruption": fault.corruption, "description": fault.description}]
    if isinstance(fault, StaleModelFault):
        return [{"seed": _stale_seed(age), "description": fault.description} for age in fault.age_days]
    return []


def _bad_model(j: Journal, f: BadModelFault) -> str:
    _model_rollback(j)
    version = _push(candidates.upload_body(f.seed, f.description, f.corruption), f.actor)
    _deploy(j, version, f.actor)
    return f"model {version} deployed by {f.actor}: {f.description}"


def _stale_model(j: Journal, f: StaleModelFault) -> str:
    _model_rollback(j)
    versions = []
    for age in sorted(f.age_days, reverse=True):  # oldest first, like the history it restores
        created = datetime.now(UTC) - timedelta(days=age)
        versions.append(_push(candidates.upload_body(_stale_seed(age), f.description, created_at=created), f.actor))
    for version in versions:
        _deploy(j, version, f.actor)
    return f"models {', '.join(versions)} deployed by {f.actor}: {f.description}"


def _process(j: Journal, f: ProcessFault) -> str:
    from labs.runtime.base import RuntimeError_, get_runtime

    _plan(j, RollbackAction(kind="process", params={"component": f.component, "action": f.action},
                            description=f"make sure {f.component} runs again"))
    runtime = get_runtime()
    try:
        (runtime.kill if f.action == "kill" else runtime.pause)(f.component)
    except RuntimeError_ as exc:
        raise FaultError(str(exc)) from None
    return f"{f.component}: {'SIGKILL' if f.action == 'kill' else 'SIGSTOP'}"


def _upstream(j: Journal, f: UpstreamReleaseFault | UpstreamStallFault | TrafficSurgeFault | DataShiftFault) -> str:
    _plan(j, RollbackAction(kind="upstream_reset", description="reset the drill's upstream clients"))
    state = upstream.load()
    if state is None:
        raise FaultError("this drill's traffic is not running (upstream.json missing); stop and restart the drill")
    if isinstance(f, UpstreamReleaseFault):
        entry = upstream.release(state, f.version, f.change, f.actor, f.note)
    elif isinstance(f, UpstreamStallFault):
        entry = upstream.stall(state, f.note)
    elif isinstance(f, TrafficSurgeFault):
        entry = upstream.surge(state, f.rate_per_s, f.note)
    else:
        entry = upstream.shift_world(state, f.scenario, f.note)
    upstream.save(state)
    j.engine_changes.append(f"upstream@{entry['ts']}")
    return f"{entry['client']}: {entry['action']} by {entry['actor']}: {entry['detail']}"


_PORT = re.compile(r":(\d+)$")


def _scrape_target(j: Journal, f: ScrapeTargetFault) -> str:
    path = monitoring_levers.prometheus_config_path()
    if not path.is_file():
        raise FaultError(f"{path} does not exist: this drill needs a lab started with 'aiops-lab up'")
    original = path.read_text()
    config = yaml_text.load(original)
    jobs = [s for s in config.get("scrape_configs", []) if s.get("job_name") == f.job]
    if not jobs:
        raise FaultError(f"no scrape job {f.job!r} in {path}")
    _plan(j, RollbackAction(kind="prometheus_config", params={"path": str(path), "text": original},
                            description=f"restore {path.name} and reload Prometheus"))
    wrong = _closed_port()
    for job in jobs:
        for static in job.get("static_configs", []):
            static["targets"] = [_PORT.sub(f":{wrong}", t) for t in static.get("targets", [])]
    header = "".join(line + "\n" for line in original.splitlines() if line.startswith("#"))
    path.write_text(header + f"# pushed by {f.actor} at {datetime.now(UTC).isoformat()[:19]}Z: {f.note}\n"
                    + yaml.safe_dump(config, sort_keys=False))
    how = "reloaded" if Prometheus().reload() else _restart_prometheus()
    monitoring_levers.mark_engine_change(j)
    return f"prometheus scrape target of job {f.job} now points at port {wrong} ({how}; pushed by {f.actor})"


def _restart_prometheus() -> str:
    from labs.stack import supervisor

    result = supervisor.request("restart", "prometheus")
    if not result.get("ok"):
        raise FaultError(f"could not apply the Prometheus config: {result.get('error') or result.get('detail')}")
    return "restarted"


def _dependency(j: Journal, f: DependencyFault) -> str:
    """The provider degrades: natively its fault file is written (see labs/traffic_feed/control.py); on
    compose, where that file is in the container's volume, through the feed's control API."""

    from aiops_core.runstate import admin_token
    from labs.stack import labview
    from labs.traffic_feed import control, remote

    fault = control.FeedFault(mode=f.mode, delay_ms=f.delay_ms, note=f.note)
    state = labview.load()
    rec = state.components.get(f.dependency) if state is not None else None
    if rec is None:
        raise FaultError(f"{f.dependency} is not part of the running lab (started before it existed?); "
                         "restart the lab: aiops-lab down && aiops-lab up -d")
    if not component_healthy(f.dependency, rec.health_url, timeout=3.0):
        raise FaultError(f"{f.dependency} does not answer at {rec.health_url}; see aiops-lab status")
    what = (f"every lookup takes {f.delay_ms} ms" if f.mode == "slow" else "lookups answer HTTP 503")
    if labview.is_compose():
        _plan(j, RollbackAction(kind="dependency", params={"url": rec.url},
                                description=f"restore {f.dependency} (clear its provider fault)"))
        try:
            remote.request(rec.url, admin_token(), "PUT", fault)
        except remote.ControlError as exc:
            raise FaultError(str(exc)) from None
    else:
        path = control.fault_path()
        _plan(j, RollbackAction(kind="dependency", params={"path": str(path)},
                                description=f"restore {f.dependency} (clear its provider fault)"))
        control.write(fault, path)
    return f"{f.dependency} provider {'degraded' if f.mode == 'slow' else 'down'}: {what} ({f.note})"


_HANDLERS = {
    "config_flag": _config_flag, "bad_model": _bad_model, "stale_model": _stale_model, "process": _process,
    "upstream_release": _upstream, "upstream_stall": _upstream, "traffic_surge": _upstream,
    "data_shift": _upstream, "scrape_target": _scrape_target, "dependency": _dependency,
}


def inject(j: Journal, fault: Fault, label: str = "", **data: Any) -> str:
    """Inject one fault (rollback planned and saved first); returns the timeline detail. ``label`` prefixes it
    (a delayed fault says when it really started: ``labs.drills.schedule``)."""
    detail = _HANDLERS[fault.type](j, fault)  # type: ignore[operator]
    j.add("injection", f"{label}: {detail}" if label else detail, fault=fault.type, **data)
    jr.save(j)
    return detail

