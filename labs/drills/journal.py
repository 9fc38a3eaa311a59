"""The drill journal: a crash-safe record of one run (``<state>/drills/current.json``).

The journal is written *before* anything is injected, with the rollback actions that undo each injection,
so ``aiops-lab drill stop`` can always restore the lab -- even when the CLI that started the drill crashed
half-way, or the machine rebooted. Shape follows chaostoolkit's run journal: what ran, when, the rollbacks,
and a timeline of everything that happened.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from aiops_core import paths
from aiops_core.atomic import atomic_write

Status = Literal["running", "passed", "stopped"]


class Event(BaseModel):
    """One line of the incident timeline."""

    at: float
    kind: str  # start | injection | learner | hint | check | ack | page | resolved | passed | rollback | stop
    detail: str
    data: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """One learner action found in the lab's records (see ``labs.drills.actions``).

    ``data`` says what the action changed, for scoring: ``target`` (e.g. ``config:traffic_feed``,
    ``model:active``) with ``before``/``after`` values for reversible changes, ``matchers`` for silences."""

    key: str  # unique, for de-duplication across CLI invocations
    kind: str  # e.g. config:explanations_enabled, model:rollback, restart:model-service, silence:create
    at: float
    detail: str
    data: dict[str, Any] = dataclass_field(default_factory=dict, hash=False, compare=False)


class RollbackAction(BaseModel):
    """How to undo one injection; ``kind`` selects the code in ``labs.drills.rollback``."""

    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    description: str
    done: bool = False
    error: str = ""


class Journal(BaseModel):
    run_id: str
    drill_id: str
    hidden: bool = False  # started by `drill random`: the id stays secret until the end
    started_at: float
    injected_at: float | None = None
    status: Status = "running"
    events: list[Event] = Field(default_factory=list)
    rollbacks: list[RollbackAction] = Field(default_factory=list)
    hints_used: int = 0
    acked_at: float | None = None
    passed_at: float | None = None
    stopped_at: float | None = None
    traffic_pid: int | None = None
    # What the lab looked like before the drill: where each history started, which pids ran, which model
    # was active. Learner actions are what changed after this (see labs.drills.actions).
    baseline: dict[str, Any] = Field(default_factory=dict)
    # Config/deploy/upstream history entries the engine itself made (not the learner's actions).
    engine_changes: list[str] = Field(default_factory=list)
    injected_versions: list[str] = Field(default_factory=list)
    result: dict[str, Any] = Field(default_factory=dict)

    def add(self, kind: str, detail: str, at: float | None = None, **data: Any) -> Event:
        event = Event(at=time.time() if at is None else at, kind=kind, detail=detail, data=data)
        self.events.append(event)
        return event


def drills_dir() -> Path:
    return paths.state_dir() / "drills"


def current_path() -> Path:
    return drills_dir() / "current.json"


def runs_dir() -> Path:
    return drills_dir() / "runs"


def results_path() -> Path:
    return drills_dir() / "results.jsonl"


def save(journal: Journal) -> None:
    """Persist the running drill (atomic: a crash leaves the previous complete version)."""
    atomic_write(current_path(), journal.model_dump_json(indent=2), fsync=True)


def load_current() -> Journal | None:
    path = current_path()
    if not path.is_file():
        return None
    return Journal.model_validate_json(path.read_text())


def archive(journal: Journal) -> Path:
    """Move the finished run out of ``current.json`` into ``runs/<run_id>.json``."""
    target = runs_dir() / f"{journal.run_id}.json"
    atomic_write(target, journal.model_dump_json(indent=2), fsync=True)
    current_path().unlink(missing_ok=True)
    return target


def load_run(run_id: str | None = None) -> Journal | None:
    """The running drill, else the named run, else the most recent finished run."""
    if run_id is None:
        current = load_current()
        if current is not None:
            return current
        runs = sorted(runs_dir().glob("*.json"), key=lambda p: p.stat().st_mtime) if runs_dir().is_dir() else []
        return Journal.model_validate_json(runs[-1].read_text()) if runs else None
    path = runs_dir() / f"{run_id}.json"
    if path.is_file():
        return Journal.model_validate_json(path.read_text())
    current = load_current()
    return current if current is not None and current.run_id == run_id else None


def record_result(result: dict[str, Any]) -> None:
    """Append a finished run's score (``drill list`` shows the best per drill)."""
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write(json.dumps(result) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def best_scores() -> dict[str, int]:
    """Best score of a *passed* run per drill id."""
    path = results_path()
    best: dict[str, int] = {}
    if not path.is_file():
        return best
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("outcome") == "passed":
            best[row["drill"]] = max(best.get(row["drill"], 0), int(row.get("score", 0)))
    return best
