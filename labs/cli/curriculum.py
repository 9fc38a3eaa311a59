"""``aiops-lab lab``: the guided curriculum -- list, show, start, check, reset (and a module's traffic).

Modules live in ``labs/curriculum/modules/<id>/README.md``; the learner works in
``<state>/workspace/<id>/`` and ``check`` judges the outcome on the live lab, step by step, with a hint for
every failed step. The logic is in ``labs.curriculum``; this module parses arguments and prints.
"""

from __future__ import annotations

import re

import click
from rich.markup import escape

from aiops_core.errors import ExitStatus, LabError
from labs.cli.output import console, ok, table
from labs.curriculum import catalogue, runner
from labs.curriculum import progress as pg


def say(text: str) -> None:
    """Print plain text: README excerpts, paths and learner input may contain [brackets], never markup."""
    console.print(escape(text), highlight=False)


def done(text: str) -> None:
    ok(escape(text))


def _status(progress: pg.Progress, module_id: str, exercise_id: str) -> str:
    if progress.module(module_id) is None:
        return "not started"
    return "[green]done[/green]" if progress.done(module_id, exercise_id) else "not done"


def _section(text: str, heading: str) -> str:
    """The body of a ``## heading`` section of a README (empty when absent)."""
    match = re.search(rf"^##\s+{re.escape(heading)}\s*$(.*?)(?=^##\s|\Z)", text, re.M | re.S | re.I)
    return match.group(1).strip() if match else ""


@click.group()
def cli() -> None:
    """Guided exercises: learn AI operations step by step on this lab, checked automatically.

    \b
    Examples:
      aiops-lab lab list                      # modules, exercises, your progress
      aiops-lab lab show 01                   # what module 01 teaches and where its README is
      aiops-lab lab start 01-serve-a-model    # create your workspace for it
      aiops-lab lab check 01                  # check every exercise of module 01
      aiops-lab lab check 01/single-prediction
      aiops-lab lab reset 01                  # forget module 01's progress
    """


@cli.command("list")
def lab_list() -> None:
    """Every module and exercise, in order, with done / not done."""
    progress = pg.load()
    rows, finished, total = [], 0, 0
    for m in catalogue.MODULES:
        for i, ex in enumerate(m.exercises()):
            total += 1
            finished += progress.done(m.id, ex.id)
            rows.append([m.id if i == 0 else "", ex.id, ex.title, _status(progress, m.id, ex.id)])
    table("curriculum (aiops-lab lab show MODULE for details)", ["module", "exercise", "what you do", "status"], rows)
    say(f"{finished}/{total} exercises done; progress: {pg.progress_path()}")


@cli.command("show")
@click.argument("module")
def lab_show(module: str) -> None:
    """Where MODULE's README is, what it teaches, and its exercises."""
    m = catalogue.find(module)
    text = m.readme.read_text() if m.readme.is_file() else ""
    progress = pg.load()
    console.print(f"[bold]{m.id}: {m.title}[/bold]", highlight=False)
    say(f"README: {m.readme}")
    say(f"roadmap: {', '.join(m.roadmap)}")
    objectives = _section(text, "Objectives")
    if objectives:
        say("\nObjectives:\n" + objectives)
    table(None, ["exercise", "what you do", "status"],
          [[ex.id, ex.title, _status(progress, m.id, ex.id)] for ex in m.exercises()])
    started = progress.module(m.id)
    if started is None:
        say(f"next: aiops-lab lab start {m.id}")
    else:
        say(f"workspace: {pg.workspace(m.id)}\nnext: aiops-lab lab check {m.id}")


@cli.command("start")
@click.argument("module")
@click.option("--force", is_flag=True, help="Overwrite workspace files with the starter files again.")
@click.option("--restart", is_flag=True, help="Forget this module's progress and draw a new personal variant.")
def lab_start(module: str, force: bool, restart: bool) -> None:
    """Create MODULE's workspace (starter files) and start its clock: checks count what you do after this."""
    m = catalogue.find(module)
    started = runner.start(m, force=force, restart=restart)
    done(f"{m.id} started; your workspace: {started.workspace}")
    for name in started.copied:
        say(f"  created {name}")
    for name in started.kept:
        say(f"  kept your {name} (use --force to overwrite it with the starter)")
    for note in started.notes:
        say(note)
    say(f"read: {m.readme}\nwhen ready: aiops-lab lab check {m.id}")


@cli.command("check")
@click.argument("target", metavar="MODULE[/EXERCISE]")
def lab_check(target: str) -> None:
    """Check your work for a module (or one exercise): pass/fail per step, a hint for each failure."""
    m, exercise = catalogue.split_target(target)
    results = runner.check(m, exercise)
    failed = 0
    for r in results:
        mark = "[green]PASS[/green]" if r.passed else "[red]FAIL[/red]"
        console.print(f"\n{mark} [bold]{m.id}/{r.exercise.id}[/bold]: {escape(r.exercise.title)}", highlight=False)
        for step in r.steps.items:
            sym = "[green]✓[/green]" if step.passed else "[red]✗[/red]"
            # names and details quote learner input and Prometheus errors: never read them as markup
            text = step.name + (f": {step.detail}" if step.detail else "")
            console.print(f"  {sym} {escape(text)}", highlight=False)
            if not step.passed and step.hint:
                console.print(f"      hint: {step.hint}", highlight=False, markup=False)
        failed += not r.passed
    if failed:
        raise LabError(f"{failed} of {len(results)} exercise(s) not passed yet; fix the steps marked ✗ and run: "
                       f"aiops-lab lab check {target}", ExitStatus.CHECK_FAILED)
    done(f"{len(results)} exercise(s) passed")


@cli.command("reset")
@click.argument("module")
@click.option("--workspace", "with_workspace", is_flag=True, help="Also delete the module's workspace files.")
def lab_reset(module: str, with_workspace: bool) -> None:
    """Forget MODULE's progress (done marks, start time, personal variant)."""
    m = catalogue.find(module)
    had = runner.reset(m, workspace=with_workspace)
    done(f"{m.id}: progress cleared" if had else f"{m.id}: no progress was saved")
    if with_workspace:
        done(f"deleted {pg.workspace(m.id)}")


@cli.command("traffic")
@click.argument("module")
@click.option("--rows", default=1500, show_default=True, type=click.IntRange(500, 10_000),
              help="Rows to send (bounded).")
def lab_traffic(module: str, rows: int) -> None:
    """Send the module's personal traffic (module 06: your mystery drift scenario) to the lab."""
    m = catalogue.find(module)
    send = getattr(m.checks(), "traffic", None)
    if send is None:
        raise LabError(f"module {m.id} has no traffic generator; send traffic with: aiops-lab load run")
    ctx = runner.context(m)
    with console.status(f"sending {rows} rows..."):
        lines = send(ctx, rows)
    for line in lines:
        say(line)
