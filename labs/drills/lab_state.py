"""What a drill may leave behind, read from the lab: the baseline before ``drill start`` and what differs from
it after ``drill stop`` (``aiops-lab drill rehearse`` proves a drill cleans up after itself, and so do the
end-to-end tests of the catalogue, with the same code).

Everything is read through the lab's own APIs and files, the way a learner's next drill would meet it. The
lab is named by a ``DrillLab`` (its environment, state dir, URLs and CLI), never by this process's
environment: the test pool plays seven labs side by side in one process.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aiops_core.errors import LabError
from aiops_core.http import health_problem
from aiops_core.runstate import admin_token, config_dir
from aiops_core.topology import MODEL_SERVICE, PAGER
from labs.drills import journal as jr
from labs.drills import schedule, upstream
from labs.drills.faults import ENGINE_ACTOR
from labs.drills.rollback import is_traffic_process
from labs.pager.client import PagerClient
from labs.stack import labview
from model_service.client import ServiceClient


class DrillLab(Protocol):
    """A running lab a drill is played on: the product's (``labs.drills.private_lab.EnvLab``) or a test's."""

    env: dict[str, str]

    @property
    def state(self) -> Path: ...

    def url(self, component: str) -> str: ...

    def cli(self, *args: str, timeout: float = ...) -> subprocess.CompletedProcess[str]: ...


@dataclass(frozen=True)
class Baseline:
    flags: dict[str, Any]
    active_model: str | None
    prometheus_yml: str | None = None  # the rendered scrape config (None: a lab without one, compose)


def service(lab: DrillLab, timeout: float = 30.0) -> ServiceClient:
    return ServiceClient(lab.url(MODEL_SERVICE.name), token=admin_token(lab.state, lab.env), actor=ENGINE_ACTOR,
                         timeout=timeout)


def pager(lab: DrillLab, timeout: float = 10.0) -> PagerClient:
    return PagerClient(lab.url(PAGER.name), timeout=timeout, token=admin_token(lab.state, lab.env))


def prometheus_yml(lab: DrillLab) -> str | None:
    path = config_dir(lab.state) / "prometheus.yml"
    return path.read_text() if path.is_file() else None


def baseline(lab: DrillLab) -> Baseline:
    client = service(lab)
    flags = client.request("GET", "/admin/config", admin=True)["flags"]
    return Baseline(flags, client.request("GET", "/admin/models", admin=True).get("active"), prometheus_yml(lab))


def unhealthy(lab: DrillLab) -> list[str]:
    """Components of the running lab that do not answer their health check (a fault or a mitigation step
    that killed or paused one, and a stop that did not bring it back)."""
    state = labview.load(lab.state, lab_target=lab.env.get("AIOPS_TARGET") or "native")
    out = []
    for name, rec in (state.components.items() if state is not None else ()):
        if rec.state == "skipped" or not rec.health_url:
            continue
        problem = health_problem(rec.health_url, timeout=5.0)
        if problem is not None:
            out.append(f"{name} is not healthy ({problem})")
    return out


def leftovers(lab: DrillLab, before: Baseline, traffic_pid: int | None, scheduler_pid: int | None) -> list[str]:
    """Every way the lab differs from ``before`` after a stop: flags, model, scrape config, processes,
    faults, health."""
    out = []
    if jr.load_current(lab.state) is not None:
        out.append(f"a drill journal is still current ({jr.current_path(lab.state)}): some rollback failed")
    now = baseline(lab)
    for flag, value in now.flags.items():
        if before.flags.get(flag) != value:
            out.append(f"flag {flag} is {value!r}, was {before.flags.get(flag)!r} before the drill")
    if now.active_model != before.active_model:
        out.append(f"model {now.active_model} is active, {before.active_model} was before the drill")
    if before.prometheus_yml is not None and now.prometheus_yml != before.prometheus_yml:
        out.append(f"the scrape config {config_dir(lab.state) / 'prometheus.yml'} differs from before the drill")
    if traffic_pid and is_traffic_process(traffic_pid):
        out.append(f"the drill's traffic process {traffic_pid} still runs")
    if scheduler_pid and schedule.is_scheduler(scheduler_pid):
        out.append(f"the drill's fault scheduler {scheduler_pid} still runs")
    if upstream.load(lab.state) is not None:
        out.append("the drill's upstream clients are still configured (upstream.json)")
    from labs.traffic_feed import control

    if control.fault_path(lab.state).is_file():
        out.append(f"the traffic feed still has a provider fault ({control.fault_path(lab.state)})")
    out += unhealthy(lab)
    try:
        drill = pager(lab).request("GET", "/drill").get("drill")
    except LabError as exc:
        out.append(f"the pager does not answer: {exc.message}")
    else:
        if drill:
            out.append(f"the pager still says drill {drill!r} is running")
    return out
