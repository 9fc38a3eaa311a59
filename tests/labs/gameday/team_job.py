"""A whole game day on a real lab, as a job of the drill pool (it mostly waits for the page and the check).

A GM schedules error-burst and, once it pages, injects a second fault (broken-upstream-feature); an IC, ops
and a scribe join in their own terminals (separate CLI processes: the pool's worker threads cannot share the
in-process CLI). The engine's events -- the hidden injections, the page from the pager, the responders'
levers, the checks -- land on the shared timeline; ops mitigates both with the drills' own fixes; the GM's
status shows the true cause and live SLIs; the end stops the drill through the engine (both faults rolled
back) and the debrief scores each role with the drill report's time to mitigate.
``test_team_game_day.py`` reports its outcome.
"""

from __future__ import annotations

import json
import shlex
import time
from typing import Any

from aiops_core.polling import wait_until
from labs.drills import catalogue
from model_service.runtime_config import RuntimeConfig
from tests.labs.drills.lab import Lab
from tests.labs.drills.plan import Plan
from tests.labs.drills.pool import Job
from tests.labs.drills.timing import check_timeout, page_timeout
from tests.labs.gameday.team import Team, team
from tests.support.lab import normal
from tests.support.speed import scaled

DRILL = "error-burst"
SECOND = "broken-upstream-feature"  # a flag no check of error-burst reads: the first drill's checks still decide


def _timeline(t: Team, who: str) -> list[dict[str, Any]]:
    shown = t.as_(who, "incident", "timeline", "--json")
    assert shown.returncode == 0, shown.stderr
    return list(json.loads(shown.stdout))


def _kinds(t: Team, who: str) -> set[str]:
    return {e["kind"] for e in _timeline(t, who)}


def team_plays_error_burst(lab: Lab) -> str:
    drill = catalogue.get(DRILL)
    with team(lab, lab.state.parent / "gameday-homes", subprocess=True) as t:
        t.start("--drill", DRILL, "--at", "0", "--status-every", "10m")
        lab.ran.append(DRILL)
        for role, name in (("ic", "alice"), ("ops", "bob"), ("scribe", "sue")):
            t.join(role, name)
        wait_until(lambda: "engine:injection" in _kinds(t, "sue"), timeout=scaled(90), interval=1.0,
                   what="the game's fault to be injected")
        seen = [e for e in _timeline(t, "sue") if e["kind"] == "engine:injection"]
        assert all("secret" not in e and "error_ratio" not in e["text"] for e in seen), seen
        t.as_("sue", "incident", "note", "watching for the page")
        wait_until(lambda: "engine:page" in _kinds(t, "sue"), timeout=page_timeout(lab, drill), interval=2.0,
                   what=f"{drill.expected_alerts} paged onto the game's timeline")
        assert t.as_("alice", "incident", "status", "5xx burst on /predict; ops investigating").returncode == 0
        injected = t.gm_cli("gameday", "inject", "--drill", SECOND)
        assert injected.returncode == 0, injected.stdout + injected.stderr
        injections = [e for e in _timeline(t, "sue") if e["kind"] == "engine:injection"]
        assert len(injections) == 2 and all("secret" not in e for e in injections), injections
        gm = normal(t.gm_cli("gameday", "status").stdout)
        assert "error_ratio" in gm and f"second faults: {SECOND}" in gm and "SLI error ratio (5m)" in gm, gm
        t.as_("bob", "incident", "note", "config history shows error_ratio set by deploy-bot")
        fixes = drill.debrief.mitigation + catalogue.get(SECOND).debrief.mitigation
        for line in fixes:  # ops pulls the drills' own levers, from their terminal
            program, *args = shlex.split(line)
            assert program == "aiops-lab", line
            done = t.as_("bob", *args)
            assert done.returncode == 0, done.stdout + done.stderr
        wait_until(lambda: t.as_("bob", "drill", "check").returncode == 0, timeout=check_timeout(drill, Plan()),
                   interval=3.0, what="ops' drill check to pass after the fix")
        t.as_("sue", "incident", "note", "--phase", "mitigation", "flag reverted; checks pass")
        ended = t.gm_cli("gameday", "end")
        lab.traffic_stopped_at = time.time()
        assert ended.returncode == 0, ended.stdout + ended.stderr
        lab.passed.append(DRILL)
        debrief = (lab.state / "reports" / "gameday").glob("*/debrief.md")
        text = next(debrief).read_text()
    for needle in ("| alice | incident commander |", "| bob | operations |", "| sue | scribe |",
                   "time to mitigate", "0 wrong action(s)", f"second fault: `{SECOND}`", "traffic_feed",
                   "engine:injection", "engine:page", "engine:check", "error_ratio"):
        assert needle in text, needle
    assert lab.journal() is None, "gameday end stops the drill through the engine"
    assert lab.flags() == RuntimeConfig().model_dump(), "both faults rolled back"
    return text.split("## Scores per role")[1].split("## What really happened")[0].strip()


JOBS = [Job("gameday: a team plays error-burst", team_plays_error_burst, cost_s=150,
            avoid_alerts=frozenset(catalogue.get(DRILL).expected_alerts), dilutable=True)]
