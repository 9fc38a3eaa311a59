"""The steps of a drill, each through the learner's CLI, each asserting what a learner would notice if it went
wrong: start, the page, a failing check, the debrief's mitigation as written, a passing check, the report,
a clean stop -- and the reset after a failure.

The stages a rehearsal has too (start, the page, the failing check, the mitigation, the recovery, the clean
stop) are ``aiops-lab drill rehearse``'s own (``labs.drills.rehearse``): the catalogue is rehearsed by the
product's code; this module adds what a test verifies beyond it."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import httpx
import psutil

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.drills import catalogue, lab_state, rehearse
from labs.drills.fault_types import (
    BadModelFault,
    ConfigFlagFault,
    ScrapeTargetFault,
    StaleModelFault,
    UpstreamReleaseFault,
)
from labs.drills.schema import Drill
from model_service.runtime_config import RuntimeConfig
from tests.labs.drills.lab import Lab
from tests.labs.drills.plan import Plan, Run
from tests.labs.drills.timing import page_timeout
from tests.support.speed import scaled

CLEAR_TIMEOUT_S = 300.0  # the previous drill's alert resolving (quality windows are 2.5 min in lab mode)


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie lingers until init reaps it)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_alerts_clear(lab: Lab, names: set[str], timeout: float | None = None) -> None:
    """An expected alert still firing from the previous drill on this lab would never page again (same
    episode), and ``drill start`` refuses to start over a leftover page: wait for it to resolve.

    Page-severity alerts only, as ``drill start`` itself (``Lab.page_alert_names``); the default deadline
    stretches with the machine's load."""
    if names:
        wait_until(lambda: not (lab.page_alert_names() & names), timeout=timeout or scaled(CLEAR_TIMEOUT_S),
                   interval=2.0,
                   what=f"{sorted(names)} from an earlier drill on {lab.name} to resolve")


def start(lab: Lab, drill_id: str, wait: bool = False) -> float:
    """``drill start``; with ``--no-wait`` unless ``wait``: the pool schedules drills whose page depends on
    the alert windows being clear onto quiet labs (their start has nothing to wait for), and every other
    drill is judged by its own assertions, not by how fast its burn rate crosses the threshold."""
    lab.ran.append(drill_id)
    journal, printed = rehearse.start(lab, drill_id, wait)
    assert catalogue.get(drill_id).title in printed, "the briefing was not printed"
    return journal.injected_at or 0.0


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
    paged = rehearse.wait_for_pages(lab, drill, injected_at, page_timeout(lab, drill))
    return next(iter(paged.items()))


ack = rehearse.acknowledge
assert_check_fails = rehearse.assert_check_fails
wait_check_passes = rehearse.wait_recovered


def run_shell(lab: Lab, line: str) -> subprocess.CompletedProcess[str]:
    """A guide's shell line on this lab, remembered with the lab's CLI outputs for a failure message."""
    done = rehearse.run_shell(lab, line)
    lab.history.append(f"$ {rehearse.on_this_lab(lab, line)}   (exit {done.returncode})\n"
                       f"{(done.stdout + done.stderr)[-1500:]}")
    return done


def mitigate(lab: Lab, run: Run, plan: Plan) -> None:
    """The debrief's mitigation as written (``rehearse.mitigate``); its instructions through the plan's
    ``manual_steps``."""
    manual = plan.manual_steps
    rehearse.mitigate(lab, run.drill, manual=None if manual is None else lambda: manual(lab, run))


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


def clean_baseline(lab: Lab) -> lab_state.Baseline:
    """The lab as ``aiops-lab up`` left it: default flags, model v1, the rendered scrape config."""
    return lab_state.Baseline(RuntimeConfig().model_dump(), "v1", lab.baseline_prometheus_yml)


def assert_clean(lab: Lab, traffic_pid: int | None = None) -> None:
    """Nothing differs from the lab ``aiops-lab up`` left (``lab_state.leftovers``, what ``drill rehearse``
    asserts after its stop): no drill, no drill traffic, every component healthy."""
    left = lab_state.leftovers(lab, clean_baseline(lab), traffic_pid, None)
    assert not left, "not clean after the drill: " + "; ".join(left)


def stop_and_assert_clean(lab: Lab) -> None:
    try:
        rehearse.stop_clean(lab, clean_baseline(lab))
    finally:
        lab.traffic_stopped_at = time.time()


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
        lab_http.post(f"{svc}/admin/model/deploy", headers=admin, json={"version": "v1"}, timeout=30)
    config = lab.state / "run" / "config" / "prometheus.yml"
    if config.read_text() != lab.baseline_prometheus_yml:
        config.write_text(lab.baseline_prometheus_yml)
        lab_http.post(lab.url("prometheus") + "/-/reload", timeout=10)
    assert_clean(lab)
