"""The drill journal: a crash-safe record of one run (``<state>/drills/current.json``).

The journal is written *before* anything is injected, with the rollback actions that undo each injection,
so ``aiops-lab drill stop`` can always restore the lab -- even when the CLI that started the drill crashed
half-way, or the machine rebooted. Shape follows chaostoolkit's run journal: what ran, when, the rollbacks,
and a timeline of everything that happened.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
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
    drill_file: str | None = None  # a user drill's file (AIOPS_DRILLS_PATH); None for the catalogue's
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
    scheduler_pid: int | None = None  # the process that injects the delayed faults (labs.drills.schedule)
    # When each fault is due (seconds after the injection), how it was drawn, and the seed: see schedule.py.
    schedule: list[dict[str, Any]] = Field(default_factory=list)
    schedule_seed: int | None = None
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


def drills_dir(state: Path | None = None) -> Path:
    """``state``: another lab's state dir than this process's (a test pool plays several labs at once)."""
    return (state or paths.state_dir()) / "drills"


def current_path(state: Path | None = None) -> Path:
    return drills_dir(state) / "current.json"


def runs_dir() -> Path:
    return drills_dir() / "runs"


def results_path() -> Path:
    return drills_dir() / "results.jsonl"


_held = 0  # nesting depth of ``locked()`` in this process (flock is per open file: not re-entrant by itself)


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """One writer of ``current.json`` at a time, across processes (the CLI and the fault scheduler).

    Re-entrant within a process: the scheduler holds it from reading the journal to saving its injection
    (``labs.drills.schedule``), and the saves inside the injection take it again."""
    global _held
    if _held:
        _held += 1
        try:
            yield
        finally:
            _held -= 1
        return
    drills_dir().mkdir(parents=True, exist_ok=True)
    with (drills_dir() / "journal.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        _held = 1
        try:
            yield
        finally:
            _held = 0
            fcntl.flock(fh, fcntl.LOCK_UN)


def _merge_appends(mine: Journal, disk: Journal) -> None:
    """Take into ``mine`` what another process appended to the same run since ``mine`` was read.

    The journal's lists only ever grow (events, rollbacks, engine changes), and two processes write it: a
    CLI command and the scheduler injecting a delayed fault. Without this, the command's save would drop the
    scheduler's rollback and ``drill stop`` could not undo that fault."""
    seen_events = {(e.at, e.kind, e.detail) for e in mine.events}
    mine.events += [e for e in disk.events if (e.at, e.kind, e.detail) not in seen_events]
    mine.events.sort(key=lambda e: e.at)
    seen_actions = {(a.kind, a.description) for a in mine.rollbacks}
    mine.rollbacks += [a for a in disk.rollbacks if (a.kind, a.description) not in seen_actions]
    mine.engine_changes += [c for c in disk.engine_changes if c not in mine.engine_changes]
    mine.injected_versions += [v for v in disk.injected_versions if v not in mine.injected_versions]


def save(journal: Journal) -> None:
    """Persist the running drill (atomic: a crash leaves the previous complete version), keeping what another
    process appended to it meanwhile (see ``_merge_appends``)."""
    with locked():
        path = current_path()
        if path.is_file():
            try:
                disk = Journal.model_validate_json(path.read_text())
            except ValueError:
                disk = None
            if disk is not None and disk.run_id == journal.run_id:
                _merge_appends(journal, disk)
        atomic_write(path, journal.model_dump_json(indent=2), fsync=True)


def load_current(state: Path | None = None) -> Journal | None:
    path = current_path(state)
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
