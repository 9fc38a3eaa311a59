"""The steps of a drill, each through the learner's CLI, each asserting what a learner would notice if it went
wrong: start, the page, a failing check, the debrief's mitigation as written, a passing check, the report,
a clean stop -- and the reset after a failure."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from aiops_core.polling import wait_until
from aiops_core.prometheus import Prometheus
from labs.drills import catalogue, checks
from labs.drills.fault_types import (
    BadModelFault,
    ConfigFlagFault,
    ScrapeTargetFault,
    StaleModelFault,
    UpstreamReleaseFault,
)
from labs.drills.schema import Drill, PromCheck
from model_service.runtime_config import RuntimeConfig
from tests.labs.drills.lab import Lab, for_this_lab
from tests.labs.drills.plan import Plan, Run
from tests.labs.drills.timing import page_timeout

CLEAR_TIMEOUT_S = 300.0  # the previous drill's alert resolving (quality windows are 2.5 min in lab mode)
STATUS_DIAGNOSIS = {"status"}  # `aiops-lab status` exits 1 while a component is down: that is its point
SHELL_TOOLS = {"curl", "ps", "kill", "cat", "grep", "tail"}  # non-CLI mitigation lines run as written


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


def start(lab: Lab, drill_id: str, wait: bool = False) -> float:
    """``drill start``; with ``--no-wait`` unless ``wait``: the pool schedules drills whose page depends on
    the alert windows being clear onto quiet labs (their start has nothing to wait for), and every other
    drill is judged by its own assertions, not by how fast its burn rate crosses the threshold."""
    done = lab.cli("drill", "start", drill_id, *(() if wait else ("--no-wait",)))
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
                "give the drill a Plan(manual_steps=...) in tests/labs/drills/test_drills_e2e.py")
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
    # The SLI chart: a PNG beside the draft, embedded in the HTML page (or, Prometheus gone, said in words).
    chart = out / "sli.png"
    assert ("](sli.png)" in postmortem and chart.read_bytes().startswith(b"\x89PNG")) or \
        "No chart of the SLIs: Prometheus did not answer" in postmortem, "the postmortem has no SLI chart"
    assert (out / "postmortem.html").is_file() and (out / "report.html").is_file()
    assert "report with the SLI chart:" in " ".join(shown.stdout.split())
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
