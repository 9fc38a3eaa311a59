"""What a drill may leave behind, read from the lab: the baseline before ``drill start`` and what differs from
it after ``drill stop`` (``aiops-lab drill rehearse`` proves a drill cleans up after itself).

Everything is read through the lab's own APIs and files, the way a learner's next drill would meet it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiops_core.errors import LabError
from aiops_core.http import health_problem
from labs.drills import journal as jr
from labs.drills import schedule, upstream
from labs.drills.faults import ENGINE_ACTOR
from labs.drills.rollback import is_traffic_process
from labs.pager.client import PagerClient
from labs.stack import labview
from model_service.client import ServiceClient


@dataclass(frozen=True)
class Baseline:
    flags: dict[str, Any]
    active_model: str | None


def baseline() -> Baseline:
    client = ServiceClient(actor=ENGINE_ACTOR, timeout=30.0)
    flags = client.request("GET", "/admin/config", admin=True)["flags"]
    return Baseline(flags, client.request("GET", "/admin/models", admin=True).get("active"))


def unhealthy() -> list[str]:
    """Components of the running lab that do not answer their health check (a fault or a mitigation step
    that killed or paused one, and a stop that did not bring it back)."""
    state = labview.load()
    out = []
    for name, rec in (state.components.items() if state is not None else ()):
        if rec.state == "skipped" or not rec.health_url:
            continue
        problem = health_problem(rec.health_url, timeout=5.0)
        if problem is not None:
            out.append(f"{name} is not healthy ({problem})")
    return out


def leftovers(before: Baseline, traffic_pid: int | None, scheduler_pid: int | None) -> list[str]:
    """Every way the lab differs from ``before`` after a stop: flags, model, processes, faults, health."""
    out = []
    if jr.load_current() is not None:
        out.append(f"a drill journal is still current ({jr.current_path()}): some rollback failed")
    now = baseline()
    for flag, value in now.flags.items():
        if before.flags.get(flag) != value:
            out.append(f"flag {flag} is {value!r}, was {before.flags.get(flag)!r} before the drill")
    if now.active_model != before.active_model:
        out.append(f"model {now.active_model} is active, {before.active_model} was before the drill")
    if traffic_pid and is_traffic_process(traffic_pid):
        out.append(f"the drill's traffic process {traffic_pid} still runs")
    if scheduler_pid and schedule.is_scheduler(scheduler_pid):
        out.append(f"the drill's fault scheduler {scheduler_pid} still runs")
    if upstream.load() is not None:
        out.append("the drill's upstream clients are still configured (upstream.json)")
    from labs.traffic_feed import control

    if control.fault_path().is_file():
        out.append(f"the traffic feed still has a provider fault ({control.fault_path()})")
    out += unhealthy()
    try:
        drill = PagerClient(timeout=10.0).request("GET", "/drill").get("drill")
    except LabError as exc:
        out.append(f"the pager does not answer: {exc.message}")
    else:
        if drill:
            out.append(f"the pager still says drill {drill!r} is running")
    return out
