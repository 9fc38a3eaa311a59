"""``aiops-lab drill new | validate | rehearse``: write your own drill and prove it works.

The work is in ``labs.drills`` (``scaffold``, ``validate``, ``rehearse``, ``private_lab``); this module parses
arguments, prints, and turns a verdict into an exit status.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import click

from aiops_core.errors import CheckFailed, ExitStatus, LabError
from labs.cli.output import console, info, ok, table
from labs.drills.scoring import fmt_seconds

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@click.command("new")
@click.argument("drill_id", metavar="ID")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to write ID.yml and its guide ID.md (e.g. a directory on "
              "AIOPS_DRILLS_PATH).")
def drill_new(drill_id: str, directory: Path) -> None:
    """Write a drill file to start from (every field commented) and its guide stub.

    \b
    Examples:
      aiops-lab drill new slow-feed --dir ~/drills
      export AIOPS_DRILLS_PATH=~/drills
      aiops-lab drill validate ~/drills/slow-feed.yml
    """
    from labs.drills import catalogue, scaffold

    if not _ID.match(drill_id):
        raise LabError(f"ID {drill_id!r}: use lowercase letters, digits and dashes (2-63 characters), e.g. slow-feed")
    if drill_id in catalogue.catalogue():
        raise LabError(f"ID {drill_id!r} is already the catalogue drill {catalogue.CATALOGUE_DIR / drill_id}.yml; "
                       "choose another ID")
    drill, guide = scaffold.write(drill_id, directory)
    ok(f"wrote {drill} and its guide {guide}")
    info(f"next: fill in every TODO, then: aiops-lab drill validate {drill}")
    info(f"      then prove it: aiops-lab drill rehearse {drill}")


@click.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def drill_validate(file: Path) -> None:
    """Check FILE: the schema (errors name the line and the field) and its references to this lab
    (alerts, runbooks, flags, fault types, metric names). Exit 0 when valid, 2 otherwise."""
    from labs.drills.validate import validate

    result = validate(file)
    for problem in result.problems:
        console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
    if not result.valid:
        raise LabError(f"{file}: {len(result.errors)} error(s); fix them and run: aiops-lab drill validate {file}",
                       ExitStatus.USAGE)
    ok(f"{file} is a valid drill ({result.drill.id if result.drill else '?'})"
       + (f" with {len(result.warnings)} warning(s)" if result.warnings else "")
       + f"; prove it works: aiops-lab drill rehearse {file}")


@click.command("rehearse")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lab", "where", type=click.Choice(["private", "current"]), default="private", show_default=True,
              help="private: a throw-away lab on free ports (your lab is untouched); current: the running lab.")
@click.option("--keep", is_flag=True, help="Keep the private lab's state directory (its logs and reports).")
def drill_rehearse(file: Path, where: str, keep: bool) -> None:
    """Play FILE end to end and print a verdict: start, the expected pages, a failing check, the debrief's
    mitigation, a passing check, a clean stop. Takes minutes; exit 0 when every stage passes.

    \b
    Examples:
      aiops-lab drill rehearse ~/drills/slow-feed.yml
      aiops-lab drill rehearse ~/drills/slow-feed.yml --lab current
    """
    from labs.drills import private_lab, rehearse

    began = time.monotonic()

    def progress(message: str) -> None:
        console.print(f"[{fmt_seconds(time.monotonic() - began):>6}] {message}", markup=False, highlight=False)

    if where == "current":
        verdict = rehearse.rehearse(file, progress)
    else:
        progress("starting a private lab on free ports (about a minute)...")
        saved = dict(os.environ)
        try:
            with private_lab.private_lab(keep=keep) as env:
                os.environ.clear()
                os.environ.update(env)  # the in-process clients (pager, Prometheus) follow it too
                progress(f"private lab up (state: {env['AIOPS_STATE_DIR']})")
                verdict = rehearse.rehearse(file, progress)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    table(f"rehearsal of {verdict.drill_id}", ["stage", "took", "result"],
          [[s.name, fmt_seconds(s.seconds), s.detail] for s in verdict.stages]
          + ([[verdict.failed, "-", "FAILED"]] if verdict.failed else []))
    ttd = ", ".join(f"{a} {fmt_seconds(s)}" for a, s in verdict.ttd_s.items()) or "-"
    info(f"time to detect: {ttd}; time to mitigate: {fmt_seconds(verdict.ttm_s)}")
    if not verdict.passed:
        raise CheckFailed(f"rehearsal failed at stage '{verdict.failed}': {verdict.reason}")
    ok(f"{verdict.drill_id} works: it pages, the debrief's mitigation restores it, and stop leaves the lab clean")
