"""Module 09, postmortems: complete the drill engine's draft of one of your own incidents.

``lab start`` copies the draft of your most recent mitigated drill into the workspace. The check lints
it (``labs.curriculum.postmortem_lint``) and compares its timeline with that run's journal -- the record
of your incident, which exists only on your lab.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from labs.curriculum import postmortem_lint as pl
from labs.curriculum.catalogue import Exercise
from labs.curriculum.context import Context
from labs.curriculum.steps import Fail

POSTMORTEM = "postmortem.md"


def latest_draft() -> Path | None:
    """The postmortem draft of the most recently mitigated drill run, if any."""
    from labs.drills import journal as jr

    runs = sorted(jr.runs_dir().glob("*.json"), key=lambda p: p.stat().st_mtime) if jr.runs_dir().is_dir() else []
    for path in reversed(runs):
        try:
            j = jr.Journal.model_validate_json(path.read_text())
        except ValueError:
            continue
        draft = j.result.get("postmortem")
        if j.passed_at is not None and draft and Path(draft).is_file():
            return Path(draft)
    return None


def on_start(ctx: Context, force: bool) -> list[str]:
    target = ctx.file(POSTMORTEM)
    if target.exists() and not force:
        return [f"  kept your {POSTMORTEM}"]
    draft = latest_draft()
    if draft is None:
        return ["  no mitigated drill with a postmortem draft yet: finish one (module 08, aiops-lab drill start ID), "
                f"then run: aiops-lab lab start {ctx.module_id} --force"]
    shutil.copyfile(draft, target)
    return [f"  created {POSTMORTEM} from the draft of your drill run ({draft.parent.name})"]


def _text(ctx: Context) -> str:
    path = ctx.file(POSTMORTEM)
    if not path.is_file():
        raise Fail("your postmortem exists", f"{path} does not exist",
                   f"finish a drill, then: aiops-lab lab start {ctx.module_id} --force (copies its draft)")
    return path.read_text(errors="replace")


def check_complete(ctx: Context) -> None:
    findings = pl.lint(_text(ctx))
    for f in findings:
        ctx.steps.fail(f.rule, f.message, f.hint)
    if not findings:
        ctx.steps.ok("sections and action items", f"all {len(pl.REQUIRED_SECTIONS)} sections written, action items "
                     "owned")


def check_timeline(ctx: Context) -> None:
    from labs.drills import journal as jr

    text = _text(ctx)
    rid = pl.run_id(text)
    if rid is None:
        raise Fail("the incident is named", "the Incident row names no drill run",
                   "keep the draft's Incident row: | Incident | <run id> (drill `...`) |")
    try:
        journal = jr.load_run(rid)
    except ValueError:
        journal = None
    if journal is None or journal.passed_at is None:
        raise Fail("the incident is one of your mitigated drills", f"no mitigated drill run {rid!r} on this lab",
                   "write the postmortem of a drill you finished here (aiops-lab drill report lists the last one)")
    ctx.steps.ok("the incident is one of your mitigated drills", rid)
    findings = pl.lint_timeline(text, journal)
    for f in findings:
        ctx.steps.fail(f.rule, f.message, f.hint)
    if not findings:
        ctx.steps.ok("the timeline matches the drill's record",
                     f"{len(pl.key_moments(journal))} key moments at their recorded times, in order")


EXERCISES = (
    Exercise("complete", "Complete every section of the postmortem, with owned action items", check_complete),
    Exercise("timeline", "Keep the timeline consistent with what the drill recorded", check_timeline),
)
