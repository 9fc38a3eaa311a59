"""Module 08, incident response: two different drills, run end to end and mitigated, after ``lab start``.

Judged from what the drill engine persisted (``labs.drills.journal``): its results log says a run passed,
and the archived journal of that run confirms it (injection, mitigation time, postmortem draft). The
learner's score does not matter here; finishing the loop does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labs.curriculum.catalogue import Exercise
from labs.curriculum.context import Context
from labs.curriculum.steps import Fail

REQUIRED = 2


def passed_runs(started_at: float) -> list[dict[str, Any]]:
    """Drill runs that passed after ``started_at``, confirmed by their archived or current journal."""
    from labs.drills import journal as jr

    path = jr.results_path()
    if not path.is_file():
        return []
    runs = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("outcome") != "passed" or float(row.get("finished_at") or 0) < started_at:
            continue
        try:
            journal = jr.load_run(str(row.get("run_id")))
        except ValueError:
            journal = None
        if journal is None or journal.passed_at is None or journal.started_at < started_at:
            continue
        runs.append({**row, "journal": journal})
    return runs


def check_two_drills(ctx: Context) -> None:
    s = ctx.steps
    runs = passed_runs(ctx.started_at)
    drills = sorted({r["drill"] for r in runs})
    if not runs:
        raise Fail("a drill mitigated", "no drill passed since you started this module",
                   "aiops-lab drill list, then aiops-lab drill start ID; follow its guide and runbook until "
                   "aiops-lab drill check passes")
    s.ok("a drill mitigated", ", ".join(f"{r['run_id']} (score {r.get('score', '?')})" for r in runs[:4]))
    s.check(len(drills) >= REQUIRED, f"{REQUIRED} different drills mitigated", f"passed: {', '.join(drills)}",
            "pick another drill from aiops-lab drill list: each incident teaches a different runbook")


def check_postmortem_drafts(ctx: Context) -> None:
    s = ctx.steps
    runs = passed_runs(ctx.started_at)
    if not runs:
        raise Fail("postmortem drafts", "no drill passed since you started this module",
                   "finish a drill first (exercise two-drills)")
    drafts = [r for r in runs if r["journal"].result.get("postmortem")
              and Path(r["journal"].result["postmortem"]).is_file()]
    s.check(len({r["drill"] for r in drafts}) >= REQUIRED, "a postmortem draft for each",
            f"{len(drafts)} passed run(s) with a draft on disk",
            "the draft is written when 'aiops-lab drill check' passes; see aiops-lab drill report")


EXERCISES = (
    Exercise("two-drills", "Run two different drills end to end with their runbooks", check_two_drills),
    Exercise("drafts", "Have the drill engine's postmortem draft for both", check_postmortem_drafts),
)
