"""Saved progress (``<state>/curriculum/progress.json``) and the learner's workspace (``<state>/workspace``).

Progress is a plain JSON record per module: when the learner started it (checks only count what happened
after that), the seed that picks their personal variant of an exercise, and which exercises passed. It
lives in the state directory, next to everything else the lab writes, so it survives restarts of the lab
and of the machine, and ``aiops-lab down --reset`` starts a learner over.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from aiops_core import paths
from aiops_core.atomic import atomic_write
from aiops_core.errors import ExitStatus, LabError

VERSION = 1


class ExerciseProgress(BaseModel):
    done: bool = False
    passed_at: float | None = None
    last_checked_at: float | None = None
    last_passed: bool | None = None


class ModuleProgress(BaseModel):
    started_at: float
    seed: int
    exercises: dict[str, ExerciseProgress] = Field(default_factory=dict)


class Progress(BaseModel):
    version: int = VERSION
    modules: dict[str, ModuleProgress] = Field(default_factory=dict)

    def module(self, module_id: str) -> ModuleProgress | None:
        return self.modules.get(module_id)

    def start(self, module_id: str, restart: bool = False) -> ModuleProgress:
        """Record the start; an already started module keeps its start time and seed unless ``restart``."""
        current = self.modules.get(module_id)
        if current is None or restart:
            current = ModuleProgress(started_at=time.time(), seed=secrets.randbelow(2**31))
            self.modules[module_id] = current
        return current

    def record(self, module_id: str, exercise_id: str, passed: bool) -> None:
        mod = self.modules[module_id]
        ex = mod.exercises.setdefault(exercise_id, ExerciseProgress())
        now = time.time()
        ex.last_checked_at, ex.last_passed = now, passed
        if passed and not ex.done:
            ex.done, ex.passed_at = True, now

    def done(self, module_id: str, exercise_id: str) -> bool:
        mod = self.modules.get(module_id)
        return bool(mod and mod.exercises.get(exercise_id, ExerciseProgress()).done)


def curriculum_dir() -> Path:
    return paths.state_dir() / "curriculum"


def progress_path() -> Path:
    return curriculum_dir() / "progress.json"


def workspace_root() -> Path:
    return paths.state_dir() / "workspace"


def workspace(module_id: str) -> Path:
    return workspace_root() / module_id


def load() -> Progress:
    path = progress_path()
    if not path.is_file():
        return Progress()
    try:
        raw: Any = json.loads(path.read_text())
        return Progress.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise LabError(f"{path} is damaged ({first}); move it aside to start the curriculum's progress over",
                       ExitStatus.INTERNAL) from None


def save(progress: Progress) -> None:
    """Atomic write: a crash mid-save leaves the previous complete file."""
    atomic_write(progress_path(), progress.model_dump_json(indent=2))
