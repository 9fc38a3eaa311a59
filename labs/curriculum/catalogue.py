"""The curriculum: modules in learning order, their exercises, and which roadmap area each one serves.

This is the single list of modules. Each module's text lives in ``modules/<id>/README.md`` (with optional
``modules/<id>/starter/`` files copied into the learner's workspace); its checks live in
``labs/curriculum/checks/<name>.py`` and are imported only when that module is checked, so ``aiops-lab lab
list`` does not pay for Evidently or Locust.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from aiops_core.errors import LabError

if TYPE_CHECKING:
    from labs.curriculum.context import Context

MODULES_DIR = Path(__file__).resolve().parent / "modules"

# The backend -> AI-ops roadmap this curriculum follows; every module serves one or more areas.
ROADMAP = (
    "monitoring and observability",
    "incident management and runbooks",
    "SLA/SLO management",
    "model lifecycle and drift",
    "process improvement",
)


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    check: Callable[[Context], None]  # records steps on ctx.steps; raises Fail to stop early


@dataclass(frozen=True)
class Module:
    id: str  # NN-slug, also the folder name and the workspace folder name
    title: str
    roadmap: tuple[str, ...]
    checks_module: str  # labs.curriculum.checks.<name>

    @property
    def number(self) -> int:
        return int(self.id.split("-", 1)[0])

    @property
    def slug(self) -> str:
        return self.id.split("-", 1)[1]

    @property
    def folder(self) -> Path:
        """``labs/curriculum/modules/<id>/``: README.md (the learner's instructions) and starter/ (answer
        files copied into the workspace by ``aiops-lab lab start``)."""
        return MODULES_DIR / self.id

    @property
    def readme(self) -> Path:
        return self.folder / "README.md"

    def checks(self) -> ModuleType:
        """The module's checks module (``EXERCISES``, optional ``on_start`` and ``traffic``)."""
        return importlib.import_module(self.checks_module)

    def exercises(self) -> tuple[Exercise, ...]:
        return tuple(self.checks().EXERCISES)

    def exercise(self, exercise_id: str) -> Exercise:
        for ex in self.exercises():
            if ex.id == exercise_id:
                return ex
        known = ", ".join(e.id for e in self.exercises())
        raise LabError(f"module {self.id} has no exercise {exercise_id!r}; its exercises: {known} "
                       f"(see: aiops-lab lab show {self.id})")


MODULES: tuple[Module, ...] = (
    Module("01-serve-a-model", "Serve a model", ("model lifecycle and drift", "monitoring and observability"),
           "labs.curriculum.checks.serve"),
    Module("02-observe-it", "Observe it: metrics and PromQL", ("monitoring and observability",),
           "labs.curriculum.checks.observe"),
    Module("03-alert-on-it", "Alert on it: rules, tests, runbook links",
           ("monitoring and observability", "incident management and runbooks"), "labs.curriculum.checks.alerting"),
    Module("04-dashboards", "Dashboards", ("monitoring and observability",), "labs.curriculum.checks.dashboards"),
    Module("05-slos-and-error-budgets", "SLOs and error budgets", ("SLA/SLO management",),
           "labs.curriculum.checks.slo"),
    Module("06-drift", "Drift: find what moved", ("model lifecycle and drift", "monitoring and observability"),
           "labs.curriculum.checks.drift"),
    Module("07-load-and-capacity", "Load and capacity", ("SLA/SLO management", "process improvement"),
           "labs.curriculum.checks.capacity"),
    Module("08-incident-response", "Incident response with runbooks", ("incident management and runbooks",),
           "labs.curriculum.checks.incidents"),
    Module("09-postmortems", "Postmortems", ("process improvement", "incident management and runbooks"),
           "labs.curriculum.checks.postmortem"),
)
BY_ID = {m.id: m for m in MODULES}


def find(name: str) -> Module:
    """A module by id (``03-alert-on-it``), number (``3``, ``03``) or slug (``alert-on-it``)."""
    key = name.strip().lower().rstrip("/")
    for m in MODULES:
        if key in (m.id, m.slug) or (key.isdigit() and int(key) == m.number):
            return m
    known = "\n  ".join(m.id for m in MODULES)
    raise LabError(f"unknown module {name!r}; the modules are:\n  {known}\n(see: aiops-lab lab list)")


def split_target(target: str) -> tuple[Module, str | None]:
    """``MODULE[/EXERCISE]`` -> (module, exercise id or None)."""
    module_name, _, exercise = target.strip().partition("/")
    module = find(module_name)
    exercise = exercise.strip("/") or None
    if exercise is not None:
        module.exercise(exercise)
    return module, exercise
