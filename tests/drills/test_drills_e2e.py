"""Drills end to end against a real native lab in lab mode, through the CLI a learner uses.

For each drill: start -> the expected alert fires and reaches the pager -> ``drill check`` fails -> the
debrief's mitigation, through the CLI -> ``drill check`` passes -> the report has TTD, TTM and a postmortem
draft -> ``drill stop`` restores the clean state. One drill also gets a wrong mitigation first, which must
leave the check failing. Drills cover distinct fault types: a config flag (error-burst), a killed process
(service-crash), a broken scrape config (monitoring-blind-spot), a bad model (bad-model-deploy) and an
upstream client release (schema-change).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap

import httpx
import psutil
import pytest

from labs.drills import catalogue
from labs.drills.schema import PromCheck
from labs.paths import REPO_ROOT
from labs.topology import COMPONENTS
from model_service.runtime_config import RuntimeConfig
from tests.drills.conftest import CLI, Lab
from tests.support.polling import wait_until

pytestmark = pytest.mark.integration

CHECK_TIMEOUT_S = 120
GUIDES = sorted((REPO_ROOT / "runbooks" / "drills").glob("*.md"))
_FENCE = re.compile(r"^([ \t]*)```(\w*)\n(.*?)^\1```", re.M | re.S)


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie lingers until init reaps it)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def start(lab: Lab, drill_id: str) -> float:
    done = lab.cli("drill", "start", drill_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert catalogue.get(drill_id).title in done.stdout  # the briefing was printed
    journal = lab.journal()
    assert journal is not None and journal["drill_id"] == drill_id
    return journal["injected_at"]


def wait_for_page(lab: Lab, drill_id: str, injected_at: float, timeout: float = 150) -> str:
    """The expected alert reached the pager; records the time to detect."""
    expected = set(catalogue.get(drill_id).expected_alerts)

    def paged() -> dict | None:
        return next((p for p in lab.pages_since(injected_at) if p["alertname"] in expected), None)

    page = wait_until(paged, timeout=timeout, interval=1.0, what=f"{expected} in the pager")
    lab.ttd[drill_id] = round(page["paged_at"] - injected_at, 1)
    return page["alertname"]


def check(lab: Lab) -> subprocess.CompletedProcess[str]:
    return lab.cli("drill", "check")


def assert_check_fails(lab: Lab) -> None:
    failed = check(lab)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAIL" in failed.stdout


def wait_check_passes(lab: Lab) -> str:
    last: list[str] = []

    def passes() -> bool:
        done = check(lab)
        last[:] = [done.stdout + done.stderr]
        assert done.returncode in (0, 1), last[0]
        return done.returncode == 0

    try:
        wait_until(passes, timeout=CHECK_TIMEOUT_S, interval=1.0, what="drill check to pass")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nlast check output:\n{last[0] if last else ''}") from None
    return last[0]


def report(lab: Lab, drill_id: str) -> dict:
    shown = lab.cli("drill", "report")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    run_id = lab.journal()["run_id"]
    assert run_id in shown.stdout
    out = lab.state / "reports" / "drills" / run_id
    data = json.loads((out / "report.json").read_text())
    postmortem = (out / "postmortem.md").read_text()
    assert data["score"]["ttd_s"] is not None and data["score"]["ttm_s"] is not None
    assert data["score"]["ttm_s"] > data["score"]["ttd_s"]  # mitigated after the page arrived
    assert " ".join(catalogue.get(drill_id).debrief.root_cause.split())[:60] in " ".join(postmortem.split())
    assert "| injection |" in postmortem and "| page |" in postmortem and "| passed |" in postmortem
    assert "## Lessons learned" in postmortem and "${" not in postmortem
    return data


def stop_and_assert_clean(lab: Lab) -> None:
    journal = lab.journal()
    stopped = lab.cli("drill", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert lab.journal() is None
    assert not (lab.state / "drills" / "upstream.json").exists()
    if journal and journal.get("traffic_pid"):
        wait_until(lambda: not running(journal["traffic_pid"]), timeout=10, what="the traffic process to exit")
    assert lab.flags() == RuntimeConfig().model_dump()
    svc = lab.url("model-service")
    assert httpx.get(svc + "/readyz", timeout=5).json()["model_version"] == "v1"
    assert (lab.state / "run" / "config" / "prometheus.yml").read_text() == lab.baseline_prometheus_yml
    assert httpx.get(lab.url("pager") + "/drill", timeout=5).json()["drill"] is None


def test_list_shows_every_drill_and_an_unknown_id_names_the_valid_ones(lab: Lab) -> None:
    listed = lab.cli("drill", "list")
    assert listed.returncode == 0, listed.stderr
    for drill_id in catalogue.catalogue():
        assert drill_id in listed.stdout
    unknown = lab.cli("drill", "start", "no-such-drill")
    assert unknown.returncode == 2
    assert "unknown drill 'no-such-drill'; valid ids:" in unknown.stderr and "service-crash" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    nothing = lab.cli("drill", "check")
    assert nothing.returncode == 5 and "no drill is running" in nothing.stderr


def test_error_burst_config_flag_reverted(lab: Lab) -> None:
    injected = start(lab, "error-burst")
    assert lab.flags()["error_ratio"] == 0.6
    again = lab.cli("drill", "start", "service-crash")
    assert again.returncode == 5 and "already running" in again.stderr
    wait_for_page(lab, "error-burst", injected)
    assert_check_fails(lab)
    fixed = lab.cli("config", "set", "error_ratio", "0", "--reason", "revert release 5.2.0")
    assert fixed.returncode == 0, fixed.stderr
    out = wait_check_passes(lab)
    assert "mitigated" in out and "postmortem draft" in out
    data = report(lab, "error-burst")
    assert data["score"]["wrong_actions"] == []
    assert data["server_impact"]["server_errors"] > 0
    stop_and_assert_clean(lab)


def test_service_crash_restart(lab: Lab) -> None:
    injected = start(lab, "service-crash")
    wait_for_page(lab, "service-crash", injected)
    acked = lab.cli("drill", "ack")
    assert acked.returncode == 0 and "acknowledged" in acked.stdout
    assert_check_fails(lab)
    restarted = lab.cli("service", "restart")
    assert restarted.returncode == 0, restarted.stderr
    wait_check_passes(lab)
    data = report(lab, "service-crash")
    assert data["client_impact"]["refused"] > 0, "users saw refused connections while it was down"
    assert data["score"]["wrong_actions"] == []  # the restart was the right lever
    stop_and_assert_clean(lab)


def test_monitoring_blind_spot_scrape_config_fixed(lab: Lab) -> None:
    injected = start(lab, "monitoring-blind-spot")
    config = lab.state / "run" / "config" / "prometheus.yml"
    assert config.read_text() != lab.baseline_prometheus_yml
    wait_for_page(lab, "monitoring-blind-spot", injected)
    assert_check_fails(lab)
    # The guide's mitigation: put the service's port back in the rendered config, reload Prometheus.
    port = lab.env["AIOPS_MODEL_SERVICE_PORT"]
    text = config.read_text()
    job = text.index("job_name: model-service")
    target_at = text.index("127.0.0.1:", job)
    end = text.index("\n", target_at)
    config.write_text(text[:target_at] + f"127.0.0.1:{port}" + text[end:])
    assert httpx.post(lab.url("prometheus") + "/-/reload", timeout=10).status_code == 200
    wait_check_passes(lab)
    report(lab, "monitoring-blind-spot")
    stop_and_assert_clean(lab)


def test_bad_model_deploy_wrong_mitigation_then_rollback(lab: Lab) -> None:
    injected = start(lab, "bad-model-deploy")
    bad_version = httpx.get(lab.url("model-service") + "/readyz").json()["model_version"]
    assert bad_version != "v1"
    wait_for_page(lab, "bad-model-deploy", injected)
    assert_check_fails(lab)
    # Wrong lever first: a restart reloads the same bad version, so the check keeps failing.
    assert lab.cli("service", "restart").returncode == 0
    assert httpx.get(lab.url("model-service") + "/readyz").json()["model_version"] == bad_version
    assert_check_fails(lab)
    rolled = lab.cli("model", "rollback")
    assert rolled.returncode == 0, rolled.stderr
    wait_check_passes(lab)
    data = report(lab, "bad-model-deploy")
    assert len(data["score"]["wrong_actions"]) == 1 and "restarted" in data["score"]["wrong_actions"][0]
    assert data["score"]["score"] <= 90
    stop_and_assert_clean(lab)


def test_schema_change_upstream_rollback(lab: Lab) -> None:
    injected = start(lab, "schema-change")
    wait_for_page(lab, "schema-change", injected)
    assert_check_fails(lab)
    status = lab.cli("drill", "upstream", "status")
    assert "3.15.0" in status.stdout and "checkout-ci" in status.stdout
    rolled = lab.cli("drill", "upstream", "rollback", "checkout-api")
    assert rolled.returncode == 0, rolled.stderr
    wait_check_passes(lab)
    report(lab, "schema-change")
    stop_and_assert_clean(lab)


def test_stop_cleans_up_after_the_cli_died_mid_start(lab: Lab) -> None:
    proc = subprocess.Popen([*CLI, "drill", "start", "memory-leak"], env=lab.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    journal = wait_until(lambda: (j := lab.journal()) and j.get("traffic_pid") and j, timeout=30,
                         what="the journal to record the traffic before the fault")
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI crashes during the warm-up (or right after injecting)
    proc.wait(10)
    traffic = journal["traffic_pid"]
    assert running(traffic)
    stopped = lab.cli("drill", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    wait_until(lambda: not running(traffic), timeout=10, what="the orphaned traffic process to be stopped")
    assert lab.flags() == RuntimeConfig().model_dump()
    assert lab.journal() is None
    assert "memory-leak" in (lab.state / "drills" / "results.jsonl").read_text()


def test_best_scores_appear_in_the_list(lab: Lab) -> None:
    listed = lab.cli("drill", "list")
    rows = {cells[1]: cells for line in listed.stdout.splitlines()
            if len(cells := [c.strip() for c in line.split("│")]) > 5}
    assert rows["service-crash"][5].isdigit(), rows["service-crash"]
    assert rows["memory-leak"][5] == "-", "a stopped run has no score"


def _guide_blocks(tag: str) -> list[tuple[str, str]]:
    return [(guide.name, textwrap.dedent(body).strip()) for guide in GUIDES
            for _, lang, body in _FENCE.findall(guide.read_text()) if lang == tag]


def _for_this_lab(lab: Lab, line: str) -> str:
    """The guides use the default ports and ``.lab/``; this lab runs on free ports in a temp state dir."""
    for comp in COMPONENTS:
        line = line.replace(f"127.0.0.1:{comp.default_port}/", f"127.0.0.1:{lab.env[comp.port_env]}/")
        line = line.replace(f"127.0.0.1:{comp.default_port}'", f"127.0.0.1:{lab.env[comp.port_env]}'")
    return line.replace(".lab/", f"{lab.state}/")


def test_every_promql_and_curl_in_the_drill_guides_runs_against_the_lab(lab: Lab) -> None:
    queries = _guide_blocks("promql")
    queries += [(f"catalogue {d.id}", c.query) for d in catalogue.catalogue().values() for c in d.checks
                if isinstance(c, PromCheck)]
    curls = [(name, line.strip()) for name, body in _guide_blocks("bash") for line in body.splitlines()
             if line.strip().startswith("curl ")]
    assert len(queries) >= 40 and len(curls) >= 15
    errors = []
    prom = lab.url("prometheus")
    for name, query in queries:
        resp = httpx.post(prom + "/api/v1/query", data={"query": query}, timeout=10)
        if resp.status_code != 200 or resp.json().get("status") != "success":
            errors.append(f"{name}: {query!r}: {resp.text[:200]}")
    for name, line in curls:
        command = _for_this_lab(lab, line)
        assert "127.0.0.1:8000" not in command and "127.0.0.1:9090" not in command, command
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=90)
        if done.returncode != 0:
            errors.append(f"{name}: {line} -> exit {done.returncode}: {done.stderr[:200]}")
    assert not errors, "\n".join(errors)


def test_stop_restores_the_state_on_disk_when_the_lab_is_gone(lab: Lab) -> None:
    """Last in this module: it stops the lab. A drill outlives ``aiops-lab down``; ``drill stop`` still
    restores the flags (on disk, where the service reads them at its next start) and the model pointer."""
    start(lab, "memory-leak")
    assert lab.flags()["memory_leak_kb_per_request"] > 0
    assert lab.cli("down").returncode == 0
    stopped = lab.cli("drill", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert json.loads((lab.state / "runtime_config.json").read_text())["memory_leak_kb_per_request"] == 0
    assert json.loads((lab.state / "models" / "active.json").read_text())["version"] == "v1"
    assert lab.journal() is None
