"""``aiops-lab drill``: incident drills -- list, start, status, hint, ack, check, stop, report, random.

The engine (``labs.drills.engine``) does the work; this module only parses arguments and prints.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import click
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from aiops_core.errors import ExitStatus, LabError
from labs.cli import drill_authoring
from labs.cli.output import console, info, ok, table
from labs.drills import catalogue, engine, upstream
from labs.drills import journal as jr
from labs.drills.scoring import fmt_seconds


def _catalogue() -> dict:
    try:
        return catalogue.catalogue()
    except catalogue.CatalogueError as exc:
        raise LabError(f"the drill catalogue is invalid:\n{exc}", ExitStatus.INTERNAL) from None


def _paragraphs(text: str) -> str:
    """YAML block text -> paragraphs the terminal can wrap (single newlines joined, blank lines kept)."""
    return "\n\n".join(" ".join(p.split()) for p in text.strip().split("\n\n"))


def _briefing(j: jr.Journal, drill) -> None:  # type: ignore[no-untyped-def]
    title = "Incident (wheel of misfortune)" if j.hidden else f"{drill.title}  [{drill.id}, {drill.difficulty}]"
    console.print(Panel(Text(_paragraphs(drill.briefing)), title=Text(title), title_align="left", expand=False))
    if not j.hidden:
        info("Objectives:")
        for objective in drill.objectives:
            console.print(f"  - {objective}", markup=False, highlight=False)
    if drill.resilience:
        info("The cause keeps going while you work: make the service meet its SLO anyway.")
    for note in (e.detail for e in j.events if e.kind == "note" and not j.hidden):
        info(f"note: {note}")
    info(f"\nThe clock runs since {time.strftime('%H:%M:%S', time.localtime(j.injected_at or j.started_at))}. "
         "Next: aiops-lab status | aiops-lab drill ack | aiops-lab drill hint | aiops-lab drill check")
    if not j.hidden:
        info(f"Drill guide: {catalogue.guide_path(drill, j.drill_file)}")


@click.group()
def cli() -> None:
    """Incident drills: break the lab on purpose, get paged, fix it, get scored.

    \b
    Examples:
      aiops-lab drill list
      aiops-lab drill start latency-regression
      aiops-lab drill check
      aiops-lab drill stop
      aiops-lab drill new my-drill --dir ~/drills   (then: validate, rehearse)
    """


@cli.command("list")
def drill_list() -> None:
    """Every drill: id, title, difficulty, minutes, your best score."""
    best = jr.best_scores()
    t = Table(header_style="bold")
    t.add_column("id", no_wrap=True)  # the id is what you type next: never truncate it
    for col in ("title", "difficulty", "minutes", "best score"):
        t.add_column(col)
    for d in _catalogue().values():
        t.add_row(d.id, d.title, d.difficulty, str(d.estimated_minutes), str(best.get(d.id, "-")))
    users = catalogue.user_drills()
    for d, path in users.drills.values():  # AIOPS_DRILLS_PATH: the user's own drills, after the catalogue
        t.add_row(d.id, Text(f"{d.title}\n(user drill: {path})"), d.difficulty, str(d.estimated_minutes),
                  str(best.get(d.id, "-")))
    console.print(t)
    for problem in users.problems:
        info(f"user drill refused: {problem}")
    info("start one: aiops-lab drill start ID   (or a surprise: aiops-lab drill random)")


def _countdown(status: Any, message: str) -> Callable[[float], None]:
    """Wait out the previous drill's traffic in the alert windows, visibly (Ctrl-C aborts: nothing started)."""
    def wait(seconds: float) -> None:
        info("the SLO alert windows still hold the previous drill's traffic; a drill started now would page "
             "later than on a fresh lab. Waiting for it to age out (Ctrl-C aborts; --no-wait starts at once).")
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            status.update(f"waiting for the alert windows to clear: {fmt_seconds(left)} left ...")
            time.sleep(min(1.0, left))
        status.update(message)
    return wait


_FORCE = click.option("--force", is_flag=True, help="Start even if the lab is not in its normal state (runtime "
                      "flags changed, a leftover silence, the drill's page still firing).")
_NO_WAIT = click.option("--no-wait", is_flag=True, help="Start at once even while the SLO alert windows still "
                        "hold the previous drill's traffic (the incident then pages later than on a fresh lab).")


@cli.command("start")
@click.argument("drill_id", metavar="ID")
@_FORCE
@_NO_WAIT
def drill_start(drill_id: str, force: bool, no_wait: bool) -> None:
    """Start drill ID: print the briefing, start its traffic, inject the fault, start the clock."""
    _catalogue()
    message = f"starting drill {drill_id} (traffic warm-up, then the fault)..."
    with console.status(message) as status:
        j, drill = engine.start(drill_id, force=force, settle=None if no_wait else _countdown(status, message))
    _briefing(j, drill)


@cli.command("random")
@_FORCE
@_NO_WAIT
def drill_random(force: bool, no_wait: bool) -> None:
    """Wheel of misfortune: start a random drill without saying which one."""
    drill_id = engine.random_drill_id()
    message = "spinning the wheel of misfortune..."
    with console.status(message) as status:
        j, drill = engine.start(drill_id, hidden=True, force=force,
                                settle=None if no_wait else _countdown(status, message))
    _briefing(j, drill)


@cli.command("status")
def drill_status() -> None:
    """The running drill: elapsed time, hints, pages received, last check."""
    j = engine.current()
    drill = engine.drill_for(j.drill_id, file=j.drill_file)
    engine.record_actions(j)
    jr.save(j)
    since = time.time() - (j.injected_at or j.started_at)
    pages = engine.pages_for(j)
    checks = [e for e in j.events if e.kind == "check"]
    rows = [
        ["drill", "(hidden until it ends)" if j.hidden else f"{drill.id}: {drill.title}"],
        ["run", j.run_id],
        ["state", j.status],
        ["time since the fault started", fmt_seconds(since)],
        ["acknowledged", "yes" if j.acked_at else "no (aiops-lab drill ack)"],
        ["hints used", f"{j.hints_used} of {len(drill.hints)}"],
        ["pages received", ", ".join(sorted({p["alertname"] for p in pages})) or "none yet"],
        ["your actions so far", str(sum(1 for e in j.events if e.kind == "learner"))],
        ["last check", checks[-1].detail if checks else "not run yet (aiops-lab drill check)"],
    ]
    table(None, ["", ""], rows)


@cli.command("hint")
def drill_hint() -> None:
    """Show the next hint (each one costs points)."""
    used, total, text = engine.hint()
    console.print(Panel(Text(text), title=f"hint {min(used, total)}/{total}", title_align="left", expand=False))


@cli.command("ack")
def drill_ack() -> None:
    """Acknowledge the incident: you noticed it (counts as detection if earlier than the page)."""
    elapsed, pages = engine.ack()
    ok("acknowledged" + (f" {fmt_seconds(elapsed)} after the fault started" if elapsed is not None else "")
       + (f"; pager pages acknowledged: {', '.join(pages)}" if pages else ""))


@cli.command("check")
def drill_check() -> None:
    """Evaluate the success checks now. Exit 0 when all pass (incident mitigated), 1 otherwise."""
    with console.status("evaluating the success checks..."):
        outcome = engine.check()
    table(None, ["check", "result", "detail"],
          [[r.name, "[green]pass[/green]" if r.passed else "[red]FAIL[/red]", r.detail] for r in outcome.results])
    if not outcome.passed:
        info("not mitigated yet; keep going (aiops-lab drill hint if you are stuck)")
        sys.exit(int(ExitStatus.CHECK_FAILED))
    if outcome.newly_passed and outcome.score is not None:
        s = outcome.score
        ok(f"mitigated: time to detect {fmt_seconds(s.ttd_s)} ({s.detected_by or 'not detected'}), time to "
           f"mitigate {fmt_seconds(s.ttm_s)}, hints {s.hints}, wrong actions {len(s.wrong_actions)} "
           f"-> score {s.score}/100")
        d = outcome.debrief
        body = (f"Root cause: {_paragraphs(d.root_cause)}\n\nWhat good looked like: {_paragraphs(d.good_response)}"
                + (f"\n\nWrong moves: {_paragraphs(d.wrong_moves)}" if d.wrong_moves else ""))
        console.print(Panel(Text(body), title="debrief", title_align="left", expand=False))
        info(f"postmortem draft: {outcome.postmortem}")
        info("clean up with: aiops-lab drill stop")
    else:
        ok("all checks pass (already scored); clean up with: aiops-lab drill stop")


@cli.command("stop")
def drill_stop() -> None:
    """Stop the drill and roll back everything it did (traffic, flags, models, processes, configs)."""
    if jr.load_current() is None:
        info("no drill is running; nothing to roll back")
        return
    with console.status("rolling back the drill..."):
        j, outcomes = engine.stop()
    failed = [(a, o) for a, o in outcomes if a.error]
    for action, outcome in outcomes:
        info(f"  {'FAILED' if action.error else 'ok'}  {action.description}: {outcome}")
    if j.hidden:
        info(f"the drill was: {j.drill_id}")
    if failed:
        raise LabError("some rollbacks failed (see above); fix the cause and run aiops-lab drill stop again -- "
                       f"it retries only what is still pending (journal: {jr.current_path()})",
                       ExitStatus.CHECK_FAILED)
    ok(f"drill {j.run_id} stopped; the lab is back to its pre-drill state. Report: aiops-lab drill report")


@cli.command("report")
@click.argument("run_id", required=False)
def drill_report(run_id: str | None) -> None:
    """Timeline and score of the running drill, or of RUN_ID, or of the last one.

    Also writes report.md and report.html (score, a chart of the SLIs with the timeline's moments marked,
    and the timeline) into the run's reports folder, and prints where.
    """
    rep = engine.report(run_id)
    j, s = rep.journal, rep.score
    origin = j.injected_at or j.started_at
    name = "(hidden)" if j.hidden and j.status == "running" else f"{rep.drill.id}: {rep.drill.title}"
    secret = j.hidden and j.status == "running"
    table(f"{j.run_id} -- {name} -- {j.status}", ["+time", "event", "detail"],
          [[("-" if at < origin else "+") + fmt_seconds(abs(at - origin)), kind,
            "(hidden until the drill ends)" if secret and kind in ("injection", "schedule") else detail]
           for at, kind, detail in rep.timeline])
    table(None, ["time to detect", "detected by", "time to mitigate", "hints", "wrong actions", "score"],
          [[fmt_seconds(s.ttd_s), s.detected_by or "-", fmt_seconds(s.ttm_s), s.hints, len(s.wrong_actions),
            s.score if j.passed_at else "- (not mitigated)"]])
    for wrong in s.wrong_actions:
        info(f"  wrong action: {wrong}")
    for undone in s.reverted:
        info(f"  not counted: {undone}")
    if s.pages and not secret:
        table("pages after the fault, in order (the first one is detection)", ["+time", "alert", "severity", "acked"],
              [[fmt_seconds(p["after_s"]), p["alert"], p["severity"],
                f"+{fmt_seconds(p['acked_after_s'])} by {p['acked_by']}" if p.get("acked_after_s") is not None
                else "-"] for p in s.pages])
    if rep.postmortem is not None:
        info(f"postmortem draft: {rep.postmortem} (with its chart: {rep.postmortem.with_suffix('.html')})")
    if rep.html is not None:
        info(f"report with the SLI chart: {rep.html.resolve().as_uri()}")


@cli.group("upstream")
def upstream_group() -> None:
    """The drill's upstream clients (checkout-api, label-pipeline): releases, rollback, restart."""


@upstream_group.command("status")
def upstream_status() -> None:
    """Each client: version, state, what it sends, its last change."""
    state = _upstream_state()
    table(None, ["client", "version", "state", "sends", "last change"], upstream.describe(state))
    history = state.history[-10:]
    if history:
        table("recent upstream changes", ["time (UTC)", "client", "change", "by", "detail"],
              [[e["time"][11:19], e["client"], e["action"], e["actor"], e["detail"]] for e in history])


@upstream_group.command("rollback")
@click.argument("client", type=click.Choice(upstream.CLIENTS))
def upstream_rollback(client: str) -> None:
    """Roll CLIENT back to its previous release (ask the owning team to revert their change)."""
    ok(f"{client}: {_upstream_act(upstream.rollback, client)}")


@upstream_group.command("restart")
@click.argument("client", type=click.Choice(upstream.CLIENTS))
def upstream_restart(client: str) -> None:
    """Restart CLIENT's workers (clears a stuck worker; does not undo a release)."""
    ok(_upstream_act(upstream.restart, client))


def _upstream_act(action: Callable[..., dict[str, Any]], client: str) -> str:
    """Apply an upstream action as the learner (``actor="cli"``), save, and return what it did."""
    state = _upstream_state()
    entry = action(state, client, actor="cli")
    upstream.save(state)
    return entry["detail"]


def _upstream_state() -> upstream.UpstreamState:
    state = upstream.load()
    if state is None:
        raise LabError("no drill traffic is running, so there are no upstream clients; start a drill: "
                       "aiops-lab drill start ID", ExitStatus.CONFLICT)
    return state


# Authoring: new, validate, rehearse (labs/cli/drill_authoring.py).
cli.add_command(drill_authoring.drill_new)
cli.add_command(drill_authoring.drill_validate)
cli.add_command(drill_authoring.drill_rehearse)
