"""The drill engine behind ``aiops-lab drill``: start, hint, ack, check, stop, report.

Each command is a short-lived process; all state is in the journal (``<state>/drills/current.json``), so a
drill survives closed terminals and crashed commands, and ``stop`` always finds what to undo.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from aiops_core.errors import ExitStatus, LabError
from aiops_core.prometheus import Prometheus
from labs.drills import (
    actions,
    candidates,
    catalogue,
    faults,
    postmortem,
    preflight,
    rollback,
    schedule,
    scoring,
    upstream,
)
from labs.drills import journal as jr
from labs.drills.checks import CheckResult, evaluate
from labs.drills.journal import Journal, RollbackAction
from labs.drills.schema import Drill
from labs.pager.client import PagerClient
from labs.stack import labview
from monitoring.render import LAB_SPEEDUP

HIDDEN_LABEL = "wheel-of-misfortune"  # what the pager is told during `drill random` (no spoiler)
TRAFFIC_START_TIMEOUT_S = 30.0


def drill_for(drill_id: str, deep: bool = False, file: str | Path | None = None) -> Drill:
    """A drill by id, or from ``file`` (a user drill whose file a running drill's journal recorded)."""
    try:
        return catalogue.get(drill_id, deep=deep, file=file)
    except KeyError as exc:
        raise LabError(str(exc.args[0]) + "; see: aiops-lab drill list") from None
    except catalogue.UserDrillError:
        raise  # the user's own file: a usage error naming it, not a broken lab
    except catalogue.CatalogueError as exc:
        raise LabError(f"the drill catalogue is invalid:\n{exc}", ExitStatus.INTERNAL) from None


def current() -> Journal:
    j = jr.load_current()
    if j is None:
        raise LabError("no drill is running; start one: aiops-lab drill start ID (list: aiops-lab drill list)",
                       ExitStatus.CONFLICT)
    return j


def _spawn_traffic(j: Journal) -> int:
    (jr.drills_dir() / "traffic-stats.json").unlink(missing_ok=True)  # the last run's numbers are not ours
    log = (jr.drills_dir() / "traffic.log").open("wb")
    try:
        proc = subprocess.Popen([sys.executable, "-m", "labs.drills.traffic", "--run-id", j.run_id],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=os.environ.copy())
    finally:
        log.close()
    return proc.pid


def start(drill_id: str, hidden: bool = False, force: bool = False,
          settle: Callable[[float], None] | None = None) -> tuple[Journal, Drill]:
    """Brief, start traffic, wait for the warm-up, inject; on any failure roll back what was done.

    ``settle(seconds)`` is called when the alert windows still hold the previous drill's traffic (see
    ``preflight.settle_seconds``) and must wait that long; without it the drill starts at once, noted."""
    drill = drill_for(drill_id, deep=True)
    source = catalogue.source(drill_id)
    running = jr.load_current()
    if running is not None:
        name = "a hidden drill" if running.hidden else f"drill {running.drill_id}"
        raise LabError(f"{name} is already running ({running.run_id}); stop it first: aiops-lab drill stop",
                       ExitStatus.CONFLICT)
    warnings = preflight.check(drill, force)
    state = labview.load()
    speedup = LAB_SPEEDUP if state is not None and state.mode == "lab" else 1
    left = preflight.settle_seconds(drill, speedup)
    if left > 0 and settle is not None:
        settle(left)
        preflight.check(drill, force)  # a lot can change in a few minutes
    elif left > 0:
        warnings.append(f"started without waiting: the alert windows still held {left:.0f} s of the previous "
                        "drill's traffic, so this incident may page later than on a fresh lab")
    now = time.time()
    stamp = datetime.fromtimestamp(now, UTC).strftime('%Y%m%d-%H%M%S')
    run_id = f"{HIDDEN_LABEL if hidden else drill.id}-{stamp}"
    j = Journal(run_id=run_id, drill_id=drill.id, hidden=hidden, started_at=now,
                drill_file=None if source is None else str(source))
    j.add("start", "drill started" if hidden else f"drill {drill.id} started")
    for warning in warnings:
        j.add("note", warning)
    jr.save(j)
    try:
        # The traffic process starts first: its start-up (seconds on a busy laptop) overlaps the baseline's
        # dozen API calls below instead of following them.
        if drill.traffic is not None:
            upstream.save(upstream.UpstreamState(checkout=drill.traffic.checkout,
                                                 labels=upstream.LabelPipeline(
                                                     feedback_ratio=drill.traffic.feedback_ratio)))
            action = RollbackAction(kind="traffic", description="stop the drill's traffic")
            j.rollbacks.append(action)
            jr.save(j)
            action.params["pid"] = j.traffic_pid = _spawn_traffic(j)
            jr.save(j)
        j.baseline = actions.baseline()
        # Whatever happens during the drill -- the faults, or the learner's retrains and experiments -- stop
        # returns the lab to this state, so the next drill starts clean.
        j.rollbacks.append(RollbackAction(kind="config_snapshot", params={"flags": preflight.flags()},
                                          description="restore every runtime flag to its pre-drill value"))
        active = j.baseline.get("active_model")
        j.rollbacks.append(RollbackAction(kind="model", params={"version": active},
                                          description=f"re-activate the pre-drill model {active}"))
        # A silence made during the drill outlives it otherwise, and hides the next drill's page.
        j.rollbacks.append(RollbackAction(kind="silences", params={"since": now,
                                                                   "keep": j.baseline.get("silences", [])},
                                          description="expire the silences created during the drill"))
        jr.save(j)
        PagerClient().set_drill(HIDDEN_LABEL if hidden else drill.id)
        if drill.traffic is not None:
            # Build the drill's candidate models (a cache miss only) while the traffic process starts.
            candidates.prepare([spec for fault in drill.faults for spec in faults.candidate_specs(fault)])
            _warm_up(j, drill.traffic.warmup)
        j.injected_at = time.time()
        for fault in schedule.plan(j, drill):  # the ones due at once; later ones go to the scheduler process
            faults.inject(j, fault)
        schedule.spawn_if_needed(j)
    except Exception as exc:  # whatever failed, undo what was already injected before reporting it
        j.add("stop", f"start failed: {exc}")
        _finish(j, outcome="failed")
        message = exc.message if isinstance(exc, LabError) else str(exc)
        raise LabError(f"the drill could not start and was rolled back: {message}", ExitStatus.NOT_RUNNING) from None
    return j, drill


def _traffic_ok_count(run_id: str) -> int:
    try:
        stats = json.loads((jr.drills_dir() / "traffic-stats.json").read_text())
    except (OSError, ValueError):
        return 0
    return int(stats.get("counts", {}).get("ok", 0)) if stats.get("run_id") == run_id else 0


def _warm_up(j: Journal, seconds: float) -> None:
    """Wait until the clients are really served, then ``seconds`` of healthy traffic before the fault."""
    first_ok_by = time.monotonic() + TRAFFIC_START_TIMEOUT_S
    deadline = None
    while deadline is None or time.monotonic() < deadline:
        if j.traffic_pid and not rollback.is_traffic_process(j.traffic_pid):
            log = (jr.drills_dir() / "traffic.log").read_text(errors="replace")[-800:]
            raise OSError(f"the drill's traffic process exited during warm-up:\n{log}")
        if deadline is None and _traffic_ok_count(j.run_id) > 0:
            deadline = time.monotonic() + seconds
        elif deadline is None and time.monotonic() > first_ok_by:
            raise OSError(f"the drill's traffic got no successful answer within {TRAFFIC_START_TIMEOUT_S:.0f}s; "
                          f"see {jr.drills_dir() / 'traffic.log'} and aiops-lab status")
        time.sleep(0.25)


def record_actions(j: Journal) -> list[actions.Action]:
    """Add learner actions not yet on the timeline (idempotent: keyed by the lab's own history ids)."""
    if not j.baseline:
        return []  # a start that failed before the baseline was taken: nothing to compare with
    seen = {e.data.get("key") for e in j.events if e.kind == "learner"}
    try:
        found = actions.detect(j)
    except (LabError, httpx.HTTPError, OSError, ValueError):
        return []
    new = [a for a in found if a.key not in seen]
    for a in new:
        j.add("learner", a.detail, at=a.at, key=a.key, action=a.kind, **a.data)
    j.events.sort(key=lambda e: e.at)
    return new


def pages_for(j: Journal) -> list[dict[str, Any]]:
    """Pages since the drill started (live from the pager; the snapshot kept in the journal otherwise)."""
    live = PagerClient().pages_since(j.started_at)
    if live is None:
        return list(j.result.get("pages", []))
    keep = ("alertname", "severity", "summary", "paged_at", "resolved_at", "runbook_url", "fingerprint", "labels",
            "acked_at", "acked_by")
    pages = [{k: p.get(k) for k in keep} for p in live]
    if j.stopped_at is not None:
        pages = [p for p in pages if (p["paged_at"] or 0) <= j.stopped_at]
    return pages


def hint() -> tuple[int, int, str]:
    j = current()
    drill = drill_for(j.drill_id, file=j.drill_file)
    if j.hints_used >= len(drill.hints):
        guide = catalogue.guide_path(drill, j.drill_file)
        return j.hints_used, len(drill.hints), f"no more hints; follow the drill guide: {guide}"
    text = drill.hints[j.hints_used]
    j.hints_used += 1
    j.add("hint", f"hint {j.hints_used} used")
    jr.save(j)
    return j.hints_used, len(drill.hints), text


def ack() -> tuple[float | None, list[str]]:
    """The learner says they noticed: seconds since the injection (None: nothing injected yet), and the
    pager pages acknowledged with it."""
    j = current()
    acked = PagerClient().ack_open(j.started_at)
    if j.acked_at is None:
        j.acked_at = time.time()
        j.add("ack", "learner acknowledged the incident" + (f" (pages: {', '.join(acked)})" if acked else ""))
        jr.save(j)
    return (None if j.injected_at is None else j.acked_at - j.injected_at), acked


@dataclass
class CheckOutcome:
    results: list[CheckResult]
    passed: bool
    newly_passed: bool = False
    score: scoring.Score | None = None
    postmortem: Path | None = None
    debrief: Any = None
    notes: list[str] = field(default_factory=list)


def check() -> CheckOutcome:
    j = current()
    drill = drill_for(j.drill_id, file=j.drill_file)
    record_actions(j)
    prom = Prometheus()
    results = evaluate(list(drill.checks), prom)
    passed = all(r.passed for r in results)
    j.add("check", f"{sum(r.passed for r in results)}/{len(results)} checks pass",
          results=[{"name": r.name, "passed": r.passed, "detail": r.detail} for r in results])
    outcome = CheckOutcome(results, passed)
    if passed and j.passed_at is None:
        j.passed_at, j.status = time.time(), "passed"
        j.add("passed", "success checks hold: incident mitigated")
        pages = pages_for(j)
        score = scoring.score(j, drill, pages)
        path = postmortem.write(j, drill, score, pages, prom)
        j.result = {"score": score.as_dict(), "postmortem": str(path), "pages": pages}
        jr.record_result({"run_id": j.run_id, "drill": drill.id, "outcome": "passed", "score": score.score,
                          "ttd_s": score.ttd_s, "ttm_s": score.ttm_s, "hints": score.hints,
                          "wrong_actions": len(score.wrong_actions), "finished_at": j.passed_at})
        outcome.newly_passed, outcome.score, outcome.postmortem, outcome.debrief = True, score, path, drill.debrief
    jr.save(j)
    return outcome


def _finish(j: Journal, outcome: str) -> list[tuple[RollbackAction, str]]:
    """Snapshot, roll back everything, archive. Used by stop and by a failed start.

    If a rollback fails, the journal stays current (status stopped: the traffic exits) so that the next
    ``drill stop`` retries exactly the rollbacks that are still pending.
    """
    schedule.cancel(j)  # no delayed fault may land after (or during) the rollback
    record_actions(j)
    j.result.setdefault("pages", pages_for(j))
    j.stopped_at = j.stopped_at or time.time()
    j.status = "stopped"
    jr.save(j)  # the traffic process sees "stopped" and exits on its own too
    PagerClient().set_drill(None)
    outcomes = rollback.run_all(j)
    if any(not a.done for a in j.rollbacks):
        return outcomes
    if outcome != "failed" and j.passed_at is None:
        jr.record_result({"run_id": j.run_id, "drill": j.drill_id, "outcome": outcome, "score": 0,
                          "finished_at": j.stopped_at})
    jr.archive(j)
    return outcomes


def stop() -> tuple[Journal, list[tuple[RollbackAction, str]]]:
    j = current()
    j.add("stop", "drill stopped; rolling back")
    outcomes = _finish(j, outcome="stopped")
    return j, outcomes


@dataclass
class Report:
    journal: Journal
    drill: Drill
    score: scoring.Score
    timeline: list[tuple[float, str, str]]
    postmortem: Path | None
    html: Path | None = None  # report.html: score, the SLI chart and the timeline


def report(run_id: str | None = None) -> Report:
    j = jr.load_run(run_id)
    if j is None:
        raise LabError("no drill run found; start one: aiops-lab drill start ID" if run_id is None
                       else f"no drill run {run_id!r} under {jr.runs_dir()}", ExitStatus.CONFLICT)
    drill = drill_for(j.drill_id, file=j.drill_file)
    if j.status == "running" or (j.status == "passed" and j.stopped_at is None):
        record_actions(j)
        jr.save(j)
    pages = pages_for(j)
    score = scoring.score(j, drill, pages)
    path = Path(j.result["postmortem"]) if j.result.get("postmortem") else None
    html = postmortem.write_run_report(j, drill, score, pages, Prometheus(timeout=5.0),
                                       hidden=j.hidden and j.status == "running")
    return Report(j, drill, score, postmortem.timeline_rows(j, pages), path, html)


def random_drill_id(rng: random.Random | None = None) -> str:
    return (rng or random.Random()).choice(sorted(catalogue.catalogue()))
