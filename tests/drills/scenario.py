"""One drill end to end on one lab, the way a learner plays it, through the real CLI.

start (briefing printed) -> the page is one of the drill's ``expected_alerts`` (no expected alert: ``drill
ack``) -> ``drill check`` fails -> the debrief's mitigation commands, run as written -> ``drill check``
passes -> ``drill report`` has TTD, TTM and a postmortem draft -> ``drill stop`` restores the clean state.

Everything drill-specific comes from the catalogue at run time (expected alerts, mitigation, checks), so a
drill added later is covered without touching this file. A ``Plan`` only adds what the catalogue cannot
say: extra assertions, a deliberate wrong move, or the manual steps of a mitigation that is not a command.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from labs.drills import catalogue, checks
from labs.drills.fault_types import (
    BadModelFault,
    ConfigFlagFault,
    ScrapeTargetFault,
    StaleModelFault,
    UpstreamReleaseFault,
)
from labs.drills.prom import Prometheus
from labs.drills.schema import Drill, PromCheck
from model_service.runtime_config import RuntimeConfig
from tests.drills.lab import Lab, for_this_lab
from tests.drills.rules import AlertTiming, alert_timings
from tests.support.polling import wait_until

# How long after an alert's lab-mode ``for:`` a page may take: rule windows filling with the fault's data
# (rate windows are 1/12 of production, at least four 2 s scrapes), Alertmanager's group_wait, the drift
# monitor's 30 s cycle, and a busy 2-core machine.
PAGE_SLACK_S = 150.0
PAGE_DEFAULT_S = 240.0  # an alert that is not a Prometheus rule (the pager's own heartbeat page: 120 s)
# A check must hold for ``hold`` seconds after the fix takes effect; the fix itself (a restart, a retrain,
# the drift monitor's next cycle) and the check's 15 s rate windows need the rest.
CHECK_BASE_S = 120.0
CLEAR_TIMEOUT_S = 300.0  # the previous drill's alert resolving (quality windows are 2.5 min in lab mode)
STATUS_DIAGNOSIS = {"status"}  # `aiops-lab status` exits 1 while a component is down: that is its point
SHELL_TOOLS = {"curl", "ps", "kill", "cat", "grep", "tail"}  # non-CLI mitigation lines run as written


@dataclass
class Run:
    """What happened in one drill run (the hooks read and extend it)."""

    drill: Drill
    lab: Lab
    injected_at: float = 0.0
    page: str = ""  # the expected alert that paged, or "ack"
    ttd_page_s: float | None = None  # injection -> page in the pager, as the harness saw it
    report: dict[str, Any] = field(default_factory=dict)
    check_output: str = ""
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds it took
    _mark: float = field(default_factory=time.monotonic)

    def phase(self, name: str) -> None:
        """Close the current phase (timings show where a drill's minutes go)."""
        now = time.monotonic()
        self.phases[name] = round(now - self._mark, 1)
        self._mark = now


Hook = Callable[[Lab, Run], None]


@dataclass(frozen=True)
class Plan:
    """What a drill needs beyond its catalogue entry (all optional)."""

    after_start: Hook | None = None  # extra assertions right after the fault is in
    after_page: Hook | None = None  # after the page (or ack), before the first failing check
    wrong_move: Hook | None = None  # a wrong lever before the real mitigation: the check must keep failing
    manual_steps: Hook | None = None  # replaces mitigation lines that are instructions, not commands
    after_report: Hook | None = None  # extra assertions on the report
    expect_wrong_actions: int = 0
    check_timeout_s: float | None = None
    quiet_lab: bool = False  # start on a lab without other traffic in the expected alert's lookback window


@dataclass
class DrillResult:
    drill: str
    lab: str
    page: str
    ttd_page_s: float | None
    ttd_s: float | None
    ttm_s: float | None
    detected_by: str
    score: int | None
    wrong_actions: list[str]
    seconds: float
    phases: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __str__(self) -> str:
        steps = ", ".join(f"{k} {v:.0f}s" for k, v in self.phases.items())
        return f"page {self.page} TTD {self.ttd_s} TTM {self.ttm_s} [{steps}]"


# --- timing from the lab's own rules -----------------------------------------------------------------------


def page_timeout(lab: Lab, drill: Drill) -> float:
    """The slowest a page may be: the alert's ``for:`` plus its lookback (an earlier drill's traffic on this lab
    ages out of the window), plus slack, for the fastest of the drill's expected alerts."""
    known = alert_timings(lab.state / "run" / "config" / "rules", speedup=1)  # what this lab loaded
    bounds = [known[a].for_s + known[a].lookback_s for a in drill.expected_alerts if a in known]
    return min(bounds) + PAGE_SLACK_S if bounds else PAGE_DEFAULT_S


def check_timeout(drill: Drill, plan: Plan) -> float:
    if plan.check_timeout_s is not None:
        return plan.check_timeout_s
    return CHECK_BASE_S + 2 * max_hold(drill)


def max_hold(drill: Drill) -> float:
    return max((c.hold for c in drill.checks if isinstance(c, PromCheck)), default=0.0)


# --- steps -------------------------------------------------------------------------------------------------


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie lingers until init reaps it)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_alerts_clear(lab: Lab, names: set[str], timeout: float = CLEAR_TIMEOUT_S) -> None:
    """An expected alert still firing from the previous drill on this lab would never page again (same
    episode), and ``drill start`` refuses to start over a leftover page: wait for it to resolve."""
    if names:
        wait_until(lambda: not (lab.active_alert_names() & names), timeout=timeout, interval=2.0,
                   what=f"{sorted(names)} from an earlier drill on {lab.name} to resolve")


def start(lab: Lab, drill_id: str) -> float:
    done = lab.cli("drill", "start", drill_id)
    lab.ran.append(drill_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert catalogue.get(drill_id).title in done.stdout, "the briefing was not printed"
    journal = lab.journal()
    assert journal is not None and journal["drill_id"] == drill_id, journal
    return journal["injected_at"]


def assert_fault_visible(lab: Lab, drill: Drill) -> None:
    """Right after ``drill start`` the fault is really in, where a learner would find it."""
    for fault in drill.faults:
        if isinstance(fault, ConfigFlagFault):
            assert lab.flags()[fault.flag] == fault.value, f"{fault.flag} is not {fault.value!r} after start"
        elif isinstance(fault, BadModelFault | StaleModelFault):
            assert lab.active_model() != "v1", "the drill's model was not deployed"
        elif isinstance(fault, ScrapeTargetFault):
            config = (lab.state / "run" / "config" / "prometheus.yml").read_text()
            assert config != lab.baseline_prometheus_yml, "the scrape config was not changed"
        elif isinstance(fault, UpstreamReleaseFault):
            status = lab.cli("drill", "upstream", "status")
            assert status.returncode == 0 and fault.version in status.stdout and fault.actor in status.stdout, (
                status.stdout + status.stderr)


def wait_for_page(lab: Lab, drill: Drill, injected_at: float) -> tuple[str, float]:
    """The first page of an expected alert after the injection: (alertname, seconds to it)."""
    expected = set(drill.expected_alerts)

    def paged() -> dict[str, Any] | None:
        return next((p for p in lab.pages_since(injected_at) if p["alertname"] in expected), None)

    page = wait_until(paged, timeout=page_timeout(lab, drill), interval=1.0,
                      what=f"one of {sorted(expected)} in the pager of {lab.name}")
    return page["alertname"], round(page["paged_at"] - injected_at, 1)


def ack(lab: Lab) -> None:
    acked = lab.cli("drill", "ack")
    assert acked.returncode == 0 and "acknowledged" in acked.stdout, acked.stdout + acked.stderr


def check(lab: Lab) -> subprocess.CompletedProcess[str]:
    return lab.cli("drill", "check")


def assert_check_fails(lab: Lab) -> None:
    failed = check(lab)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAIL" in failed.stdout, failed.stdout


def wait_check_passes(lab: Lab, drill: Drill, timeout: float) -> str:
    """Poll until ``drill check`` exits 0. The PromQL checks are first evaluated here, against the lab's
    Prometheus: while one of them fails the CLI's verdict could only be "FAIL", and a CLI run costs a
    second of CPU that five labs polling side by side cannot afford."""
    prom = Prometheus(lab.url("prometheus"))
    prom_checks = [c for c in drill.checks if isinstance(c, PromCheck)]
    last: list[str] = []

    def passes() -> bool:
        pending = [r for r in (checks.promql(c, prom) for c in prom_checks) if not r.passed]
        if pending:
            last[:] = ["(not run: the PromQL checks do not hold yet)\n" +
                       "\n".join(f"{r.name}: {r.detail}" for r in pending)]
            return False
        done = check(lab)
        last[:] = [done.stdout + done.stderr]
        assert done.returncode in (0, 1), last[0]
        return done.returncode == 0

    try:
        wait_until(passes, timeout=timeout, interval=1.0, what="drill check to pass")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nlast check output:\n{last[0] if last else ''}") from None
    return last[0]


def _venv_env(lab: Lab) -> dict[str, str]:
    """The guides' shell lines call ``python``: give them this interpreter first on PATH."""
    env = dict(lab.env)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_shell(lab: Lab, line: str) -> subprocess.CompletedProcess[str]:
    command = for_this_lab(lab, line)
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=90,
                          env=_venv_env(lab), cwd=lab.state.parent, stdin=subprocess.DEVNULL)
    lab.history.append(f"$ {command}   (exit {done.returncode})\n{(done.stdout + done.stderr)[-1500:]}")
    return done


def mitigation_lines(drill: Drill) -> list[tuple[str, str]]:
    """The debrief's mitigation as (kind, text): cli | shell | manual (an instruction, not a command)."""
    out = []
    for line in drill.debrief.mitigation:
        text = line.strip()
        if text.startswith("aiops-lab "):
            out.append(("cli", text))
        elif text.split(" ", 1)[0] in SHELL_TOOLS:
            out.append(("shell", text))
        else:
            out.append(("manual", text))
    return out


def mitigate(lab: Lab, run: Run, plan: Plan) -> None:
    """Run the debrief's mitigation as written: CLI lines through ``python -m labs.cli``, shell lines
    through bash (on this lab's ports), instructions through the plan's ``manual_steps``."""
    manual_done = False
    for kind, text in mitigation_lines(run.drill):
        if kind == "cli":
            args = shlex.split(text)[1:]
            done = lab.cli(*args)
            allowed = (0, 1) if args[0] in STATUS_DIAGNOSIS else (0,)
            assert done.returncode in allowed, f"{text} -> exit {done.returncode}\n{done.stdout}{done.stderr}"
            assert "Traceback" not in done.stderr, done.stderr
        elif kind == "shell":
            done = run_shell(lab, text)
            assert done.returncode == 0, f"{text} -> exit {done.returncode}\n{done.stdout}{done.stderr}"
        elif not manual_done:
            assert plan.manual_steps is not None, (
                f"{run.drill.id}: the mitigation step {text!r} is an instruction, not a command; "
                "give the drill a Plan(manual_steps=...) in tests/drills/test_drills_e2e.py")
            plan.manual_steps(lab, run)
            manual_done = True


def report(lab: Lab, drill: Drill) -> dict[str, Any]:
    shown = lab.cli("drill", "report")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    run_id = lab.journal()["run_id"]
    assert run_id in shown.stdout
    out = lab.state / "reports" / "drills" / run_id
    data = json.loads((out / "report.json").read_text())
    postmortem = (out / "postmortem.md").read_text()
    assert data["score"]["ttd_s"] is not None and data["score"]["ttm_s"] is not None, data["score"]
    assert data["score"]["ttm_s"] > data["score"]["ttd_s"], data["score"]  # mitigated after detection
    assert " ".join(drill.debrief.root_cause.split())[:60] in " ".join(postmortem.split()), "root cause missing"
    for section in ("| injection |", "| passed |", "## Lessons learned"):
        assert section in postmortem, f"postmortem draft lacks {section!r}"
    if drill.expected_alerts:
        assert "| page |" in postmortem, "the page is not on the postmortem timeline"
    assert "${" not in postmortem, "an unfilled template placeholder in the postmortem"
    return data


def assert_clean(lab: Lab, traffic_pid: int | None = None) -> None:
    """The lab as ``aiops-lab up`` left it: no drill, default flags, model v1, the rendered scrape config,
    no drill on the pager, no drill traffic, every component healthy."""
    assert lab.journal() is None, "a drill journal is still current"
    assert not (lab.state / "drills" / "upstream.json").exists(), "the drill's upstream clients remain"
    if traffic_pid:
        wait_until(lambda: not running(traffic_pid), timeout=10, what="the drill's traffic process to exit")
    assert lab.flags() == RuntimeConfig().model_dump()
    assert lab.active_model() == "v1"
    assert (lab.state / "run" / "config" / "prometheus.yml").read_text() == lab.baseline_prometheus_yml
    assert httpx.get(lab.url("pager") + "/drill", timeout=5).json()["drill"] is None
    unhealthy = lab.unhealthy()
    assert not unhealthy, f"not healthy after the drill: {unhealthy}"


def stop_and_assert_clean(lab: Lab) -> None:
    journal = lab.journal()
    stopped = lab.cli("drill", "stop")
    lab.traffic_stopped_at = time.time()
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert_clean(lab, journal.get("traffic_pid") if journal else None)


def play(lab: Lab, drill_id: str, plan: Plan) -> DrillResult:
    """The whole drill; every step asserts what a learner would notice if it went wrong."""
    began = time.monotonic()
    drill = catalogue.get(drill_id)
    run = Run(drill, lab)
    wait_alerts_clear(lab, set(drill.expected_alerts))
    run.phase("wait for the last drill's alerts")
    run.injected_at = start(lab, drill_id)
    assert_fault_visible(lab, drill)
    if plan.after_start:
        plan.after_start(lab, run)
    run.phase("start")
    if drill.expected_alerts:
        run.page, run.ttd_page_s = wait_for_page(lab, drill, run.injected_at)
    else:
        ack(lab)
        run.page = "ack"
    if plan.after_page:
        plan.after_page(lab, run)
    run.phase("page")
    assert_check_fails(lab)
    if plan.wrong_move:
        plan.wrong_move(lab, run)
    mitigate(lab, run, plan)
    run.phase("mitigate")
    run.check_output = wait_check_passes(lab, drill, check_timeout(drill, plan))
    lab.passed.append(drill_id)
    run.phase("check passes")
    assert "mitigated" in run.check_output and "postmortem draft" in run.check_output, run.check_output
    run.report = report(lab, drill)
    score = run.report["score"]
    assert len(score["wrong_actions"]) == plan.expect_wrong_actions, (
        f"the debrief's mitigation must not be scored as wrong: {score['wrong_actions']}")
    if plan.after_report:
        plan.after_report(lab, run)
    stop_and_assert_clean(lab)
    run.phase("report and stop")
    return DrillResult(drill_id, lab.name, run.page, run.ttd_page_s, score["ttd_s"], score["ttm_s"],
                       score.get("detected_by", ""), score.get("score"), score["wrong_actions"],
                       round(time.monotonic() - began, 1), run.phases)


def reset(lab: Lab) -> None:
    """After a failed drill: stop it and put the lab back by hand where stop did not (so the next drill on
    this lab is not judged on the last one's leftovers). Raises when the lab cannot be made clean."""
    lab.cli("drill", "stop")
    lab.traffic_stopped_at = time.time()
    if lab.journal() is not None:
        lab.cli("drill", "stop")
    status = lab.cli("status", "--json")
    try:
        components = json.loads(status.stdout)["components"]
    except (ValueError, KeyError):
        components = {}
    for name, rec in components.items():
        if rec.get("state") not in ("healthy", "skipped"):
            lab.cli("service", "restart", name)
    svc, admin = lab.url("model-service"), lab.admin
    for flag, value in RuntimeConfig().model_dump().items():
        if lab.flags().get(flag) != value:
            httpx.put(f"{svc}/admin/config/{flag}", headers=admin, timeout=30,
                      json={"value": value, "reason": "test harness: reset after a failed drill"})
    if lab.active_model() != "v1":
        httpx.post(f"{svc}/admin/model/deploy", headers=admin, json={"version": "v1"}, timeout=30)
    config = lab.state / "run" / "config" / "prometheus.yml"
    if config.read_text() != lab.baseline_prometheus_yml:
        config.write_text(lab.baseline_prometheus_yml)
        httpx.post(lab.url("prometheus") + "/-/reload", timeout=10)
    assert_clean(lab)


_SINCE = re.compile(r"--since\s+(\S+)")


def retrain_window_s(drill: Drill) -> float:
    """The longest ``--since`` of a retrain in the drill's mitigation: that much of the lab's recent traffic
    becomes training data, so it must be this drill's own."""
    from labs.drills.schema import parse_duration

    windows = [parse_duration(m.group(1)) for line in drill.debrief.mitigation
               if "model retrain" in line and (m := _SINCE.search(line))]
    windows += [24 * 3600.0 for line in drill.debrief.mitigation if "model retrain" in line and "--since" not in line]
    return max(windows, default=0.0)


def quiet_window_s(drill: Drill, plan: Plan, timings: dict[str, AlertTiming]) -> float:
    """How long the lab must have been without other drill traffic: a retrain's ``--since`` window (that
    traffic becomes training data) and, for a ``quiet_lab`` plan, the lookback of the drill's alert."""
    lookbacks = [timings[a].lookback_s for a in drill.expected_alerts if a in timings] if plan.quiet_lab else []
    return max([retrain_window_s(drill), *lookbacks])


def estimated_seconds(drill: Drill, plan: Plan, timings: dict[str, AlertTiming]) -> float:
    """For longest-first scheduling: start, the page (its ``for:``, or an earlier drill's traffic ageing out
    of its lookback window), a wrong move, a retrain, the check's hold, report and stop."""
    pages = [max(timings[a].for_s + 40.0, timings[a].lookback_s / 3) for a in drill.expected_alerts if a in timings]
    page = min(pages) if pages else (110.0 if drill.expected_alerts else 5.0)
    extra = (40.0 if retrain_window_s(drill) else 0.0) + (35.0 if plan.wrong_move else 0.0)
    return 10.0 + page + extra + 25.0 + 2 * max_hold(drill) + 15.0
