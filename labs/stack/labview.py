"""The running lab as the drill engine and the CLI see it, whichever way it was started.

Natively, ``aiops-lab up`` records pids and ports in ``<state>/run/lab.json`` (:mod:`aiops_core.runstate`).
The compose lab has no such file on the host: its components are containers behind published ports. Here
it is described from the same topology (``AIOPS_<NAME>_URL`` / ``AIOPS_<NAME>_PORT``, else the default
ports), without pids, and "alive" means "the model service or Prometheus answers". Process-level questions
(is it running, when did it start) go to the runtime (:mod:`labs.runtime`), never to pids, so that one
engine drives both targets.
"""

from __future__ import annotations

import os
from pathlib import Path

from aiops_core.http import component_problem
from aiops_core.runstate import ComponentRecord, RunState, component_url, run_file, target
from aiops_core.topology import COMPONENTS, LOCUST, MODEL_SERVICE, PROMETHEUS


def is_compose() -> bool:
    """Does this process act on the compose project (``aiops-lab --target compose``)?"""
    return target() == "compose"


class ComposeLab(RunState):
    """The compose project seen from the host: URLs of the published ports, no pids, no supervisor."""

    def alive(self) -> bool:
        for name in (MODEL_SERVICE.name, PROMETHEUS.name):
            rec = self.components[name]
            problem = component_problem(name, rec.health_url)
            if problem is None or problem.startswith("HTTP"):
                return True  # answering at all: a 503 from a starting service is still a running lab
        return False


def compose_lab() -> ComposeLab:
    comps = {}
    for comp in COMPONENTS:
        if comp is LOCUST:
            continue  # on demand (profile load), not part of the running lab
        url = component_url(comp.name)
        comps[comp.name] = ComponentRecord(name=comp.name, port=comp.port(), url=url,
                                           health_url=url + comp.health_path, state="unknown")
    return ComposeLab(supervisor_pid=0, mode=os.environ.get("AIOPS_LAB_MODE", "lab"), started_at="",
                      components=comps)


def load(state: Path | None = None, lab_target: str | None = None) -> RunState | None:
    """The lab record for the current target (``None``: no native lab was ever started here); ``state``:
    the native lab of another state dir than this process's; ``lab_target``: that lab's (native or compose)
    instead of this process's ``AIOPS_TARGET``."""
    compose = (lab_target or target()) == "compose"
    return compose_lab() if compose else RunState.load(run_file(state))


def not_running_hint() -> str:
    if is_compose():
        return (f"the compose lab does not answer at {component_url(MODEL_SERVICE.name)}; start it with: "
                "docker compose up -d --wait (or point AIOPS_MODEL_SERVICE_URL at it)")
    return "the lab is not running; start it with: aiops-lab up -d"
