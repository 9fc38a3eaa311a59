"""Start, check and reset modules: the logic behind ``aiops-lab lab`` (the CLI only parses and prints)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from aiops_core.errors import ExitStatus, LabError
from labs.curriculum import progress as pg
from labs.curriculum.catalogue import Exercise, Module
from labs.curriculum.context import Context
from labs.curriculum.steps import Fail, Steps


@dataclass
class ExerciseResult:
    exercise: Exercise
    steps: Steps

    @property
    def passed(self) -> bool:
        return self.steps.passed


@dataclass
class Started:
    workspace: Path
    copied: list[str]
    kept: list[str]
    notes: list[str]
    restarted: bool


def start(module: Module, force: bool = False, restart: bool = False) -> Started:
    """Create the workspace from the starter files and record the start (time and personal seed).

    Existing workspace files are kept (they are the learner's work) unless ``force``; ``restart`` also
    forgets the module's progress and draws a new seed.
    """
    progress = pg.load()
    already = progress.module(module.id) is not None
    if restart:
        progress.modules.pop(module.id, None)
    mod = progress.start(module.id)
    ws = pg.workspace(module.id)
    ws.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    starter = module.folder / "starter"
    if starter.is_dir():
        for src in sorted(p for p in starter.rglob("*") if p.is_file()):
            rel = src.relative_to(starter)
            dst = ws / rel
            if dst.exists() and not force:
                kept.append(str(rel))
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            copied.append(str(rel))
    notes: list[str] = []
    hook = getattr(module.checks(), "on_start", None)
    if hook is not None:
        notes = list(hook(Context(module.id, ws, mod), force) or [])
    pg.save(progress)
    return Started(ws, copied, kept, notes, restarted=already and restart)


def context(module: Module) -> Context:
    mod = pg.load().module(module.id)
    if mod is None:
        raise LabError(f"module {module.id} is not started yet; run: aiops-lab lab start {module.id}",
                       ExitStatus.CONFLICT)
    return Context(module.id, pg.workspace(module.id), mod)


def check(module: Module, exercise_id: str | None = None) -> list[ExerciseResult]:
    """Run the module's checks (or one exercise's) and save which passed."""
    ctx = context(module)
    targets = [module.exercise(exercise_id)] if exercise_id else list(module.exercises())
    results: list[ExerciseResult] = []
    for ex in targets:
        ex_ctx = Context(ctx.module_id, ctx.workspace, ctx.progress, Steps())
        try:
            ex.check(ex_ctx)
        except Fail as failure:
            ex_ctx.steps.items.append(failure.step)
        results.append(ExerciseResult(ex, ex_ctx.steps))
    progress = pg.load()  # re-read: a long check (capacity) must not overwrite progress saved meanwhile
    if progress.module(module.id) is None:
        progress.modules[module.id] = ctx.progress
    for r in results:
        progress.record(module.id, r.exercise.id, r.passed)
    pg.save(progress)
    return results


def reset(module: Module, workspace: bool = False) -> bool:
    """Forget a module's progress (and with ``workspace`` delete its files); False if nothing was saved."""
    progress = pg.load()
    had = progress.modules.pop(module.id, None) is not None
    pg.save(progress)
    ws = pg.workspace(module.id)
    if workspace and ws.exists():
        shutil.rmtree(ws)
    return had
