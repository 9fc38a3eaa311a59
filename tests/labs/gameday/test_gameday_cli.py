"""A game day played through the real CLI, one terminal per participant: a GM and three responders write on
one shared timeline, hand over incident command, and the debrief names everyone with their roles. Also the
IC's overdue prompt and the CLI's errors. No lab here (the drill itself is played by the pool job in
``team_job.py``): these games never get a fault, or fail to start it, which the GM is told.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_core.polling import wait_until
from tests.labs.gameday.team import Team, run, team
from tests.support.lab import Lab, normal
from tests.support.speed import scaled

pytestmark = pytest.mark.integration


@pytest.fixture
def game(tmp_path: Path) -> Iterator[Team]:
    with team(Lab.create(tmp_path / "state"), tmp_path / "homes") as t:
        yield t


def test_a_gm_and_three_responders_share_one_timeline_and_a_debrief(game: Team) -> None:
    started = game.start("--drill", "error-burst", "--at", "1h", "--status-every", "10m")
    assert "Error burst after a backend release [error-burst]" in normal(started.stdout)
    for role, name in (("ic", "alice"), ("ops", "bob"), ("scribe", "sue")):
        game.join(role, name)
    saved = game.home / "sue" / "gameday-responder.json"
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600

    steps = [("sue", "incident", "note", "--phase", "detection", "paged: 5xx burn on /predict"),
             ("alice", "incident", "status", "investigating elevated 5xx; next update in 10 minutes"),
             ("bob", "incident", "note", "--phase", "diagnosis", "config history: error_ratio changed by deploy-bot"),
             ("alice", "incident", "handoff", "--to", "bob"),
             ("bob", "incident", "status", "reverting the release flag; next update in 10 minutes"),
             ("sue", "incident", "note", "--phase", "mitigation", "flag reverted, 5xx back to zero")]
    for who, *args in steps:
        done = game.as_(who, *args)
        assert done.returncode == 0, f"{who}: {args}\n{done.stdout}{done.stderr}"
    refused = game.as_("alice", "incident", "status", "I am ops now")
    assert refused.returncode != 0 and "needs role ic; you are alice (ops)" in normal(refused.stderr)
    hinted = game.gm_cli("gameday", "hint", "--to", "sue", "write down what the IC decides")
    assert hinted.returncode == 0, hinted.stderr

    shown = game.as_("sue", "incident", "timeline", "--json")
    assert shown.returncode == 0, shown.stderr
    entries = json.loads(shown.stdout)
    rows = {(e["author"], e["role"], e["kind"]) for e in entries}
    assert {("alice", "ic", "join"), ("bob", "ops", "join"), ("sue", "scribe", "join"), ("alice", "ic", "status"),
            ("bob", "ic", "status"), ("alice", "ic", "handoff"), ("sue", "scribe", "note"),
            ("gm", "gm", "hint")} <= rows
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    table = normal(game.as_("bob", "incident", "timeline").stdout)
    assert "incident command handed to bob; alice takes operations" in table
    assert "write down what the IC decides" not in table  # sue's hint is sue's
    assert "(to sue) write down what the IC decides" in normal(game.gm_cli("gameday", "timeline").stdout)

    ended = game.gm_cli("gameday", "end")
    assert ended.returncode == 0, ended.stdout + ended.stderr
    debrief = Path(normal(ended.stdout).split("debrief: ")[1].split()[0]).read_text()
    for line in ("| alice | operations | ic, ops |", "| bob | incident commander | ops, ic |",
                 "| sue | scribe | scribe |", "| scribe | sue | 100/100 |", "(to sue) write down what the IC decides",
                 "## Scores per role", "error_ratio"):
        assert line in debrief, line
    after = game.as_("sue", "incident", "note", "too late")
    assert after.returncode != 0 and ("the game day has ended" in after.stderr or "not reachable" in after.stderr)


def test_the_ic_is_prompted_when_a_status_update_is_overdue(game: Team) -> None:
    game.start("--drill", "error-burst", "--at", "0", "--status-every", "2s")  # no lab: the fault cannot start
    game.join("ic", "alice")
    game.join("ops", "bob")
    prompt = "status update overdue by"
    overdue = wait_until(lambda: (t := game.as_("alice", "incident", "timeline")) and prompt in t.stderr and t,
                         timeout=scaled(20), interval=0.5, what="the IC's overdue prompt")
    assert 'aiops-lab incident status "' in overdue.stderr
    assert prompt not in game.as_("bob", "incident", "timeline").stderr  # only the IC owes updates
    posted = game.as_("alice", "incident", "status", "still investigating")
    assert posted.returncode == 0 and prompt not in posted.stderr
    status = normal(game.gm_cli("gameday", "status").stdout)
    assert "the fault could not start: the lab is not running" in status


def test_cli_errors_name_the_fix(game: Team) -> None:
    gm = game.gm
    assert "only the game master starts" in run(gm, "gameday", "start", "--drill", "error-burst").stderr
    assert "--drill ID" in run(gm, "gameday", "start", "--gm").stderr
    assert "--at" in run(gm, "gameday", "start", "--gm", "--random", "--at", "soon").stderr
    unknown = run(gm, "gameday", "start", "--gm", "--drill", "no-such-drill")
    assert unknown.returncode != 0 and "--drill: unknown drill 'no-such-drill'" in unknown.stderr
    assert "no game master token here" in run(gm, "gameday", "status").stderr
    game.start("--random", "--at", "1h")
    assert "already being served" in run(gm, "gameday", "start", "--gm", "--random").stderr
    token = game.invite("scribe", "sue")
    player = Lab({**gm.env, "AIOPS_GAMEDAY_HOME": str(game.home / "sue")})
    assert "no game day token: join with" in run(player, "incident", "note", "hi").stderr
    wrong = run(player, "incident", "join", "--role", "ic", "--token", token)
    assert wrong.returncode != 0 and "--role: this token is sue's, invited as scribe; rerun with --role scribe" \
        in normal(wrong.stderr)
    forged = run(player, "incident", "join", "--role", "ic", "--token", "gd_forged")
    assert "HTTP 401" in forged.stderr and "no such token" in forged.stderr
    assert run(player, "incident", "join", "--role", "scribe", "--token", token).returncode == 0
    empty = run(player, "incident", "note", "  ")
    assert empty.returncode == 2 and "text: a note needs some text" in empty.stderr
    for out in (wrong, forged, empty):
        assert "Traceback" not in out.stderr
