"""A real Prometheus (lab-mode config from the renderer) scraping the real model service under a burst of
real traffic: targets up, every rule healthy, every recording rule has data, every runbook query and curl
command works, and a killed service pages within seconds (lab-mode time compression works end to end).

A job of the drill pool, run beside its heavy jobs (``tests/labs/drills/pool.py``): it starts a service and a
Prometheus of its own and then mostly waits for scrapes and rule evaluations (28 s, 6 CPU-s alone), which is
what the pool's labs do while a surge holds the CPU. ``test_prometheus_integration.py`` reports it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from aiops_core.runstate import ComponentRecord, RunState
from aiops_core.topology import MODEL_SERVICE, PROMETHEUS
from tests.labs.drills.lab import Lab, borrowed_dir
from tests.labs.drills.pool import Job
from tests.monitoring import catalog
from tests.monitoring.traffic import Burst
from tests.support.isolation import session_environment
from tests.support.processes import ServiceUnderTest, service_with_registry
from tests.support.prometheus import TestPrometheus, running_prometheus

MAX_ROUNDS = 60  # at most ~720 requests, whatever happens


def _has_value(samples: list[tuple[dict[str, str], float]]) -> bool:
    return any(math.isfinite(value) for _, value in samples)


def _recording_has_data(prom: TestPrometheus, selector: str) -> bool:
    if selector.startswith("route:"):
        selector = selector.rstrip("}") + ',route="/predict"}' if "{" in selector else selector + '{route="/predict"}'
    return _has_value(prom.vector(selector))


def _recorded_lab(service: ServiceUnderTest, prom: TestPrometheus, state: Path) -> dict[str, str]:
    """The environment of a learner's shell on a running lab whose service and Prometheus got ports other
    than the defaults: the lab's record (``<state>/run/lab.json``, this process standing in for its
    supervisor) holds them, and the ``aiops-lab url`` the runbooks call must find them there."""
    lab = RunState(os.getpid(), "lab", "2026-01-01T00:00:00+00:00")
    for name, url in ((MODEL_SERVICE.name, service.url), (PROMETHEUS.name, prom.url)):
        port = int(url.rsplit(":", 1)[1])
        lab.components[name] = ComponentRecord(name, port, url, url + "/", state="healthy")
    run = state / "run"
    run.mkdir(parents=True, exist_ok=True)
    lab.save(run / "lab.json")
    env = session_environment()  # not os.environ: a test on the main thread may be monkeypatching it
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's aiops-lab
    return {**env, "AIOPS_STATE_DIR": str(state)}


def _run_runbook_curl(line: str, env: dict[str, str], cwd: Path) -> str | None:
    """Run a runbook curl line as written on the recorded lab; None when it targets a component not running
    here. The suite points every ``AIOPS_<NAME>_PORT`` at a refusing port and the tripwire listens on the
    defaults, so a line that does not ask the lab where its components are fails."""
    if "aiops-lab url model-service)" not in line and "aiops-lab url prometheus)" not in line:
        return None
    result = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=20,
                            check=False)
    return "" if result.returncode == 0 else f"{line}\n  exit {result.returncode}: {result.stderr[-300:]}"


def lab_prometheus_against_the_live_service(lab: Lab) -> str:
    """Its own service (the session's trained models) and Prometheus, in a directory beside the pool lab's
    state; the lab itself is not used."""
    work = borrowed_dir(lab, "prometheus-integration", models=False)
    assert lab.seed_registry is not None, "the pool gives every lab the session's trained models"
    with service_with_registry(work / "service", lab.seed_registry) as service, \
            running_prometheus(work / "prometheus", {"model-service": f"127.0.0.1:{service.port}"}) as prometheus:
        return _against_the_live_service(service, prometheus, work)


def _against_the_live_service(service: ServiceUnderTest, prometheus: TestPrometheus, tmp_path: Path) -> str:
    recording = sorted(catalog.recording_selectors())
    with service.client() as client:
        burst = Burst(client)

        def all_recording_rules_have_data() -> bool:
            assert burst.rounds < MAX_ROUNDS, "traffic bound reached before every recording rule had data"
            burst.send_round()
            return all(_recording_has_data(prometheus, name) for name in recording)

        wait_until(all_recording_rules_have_data, timeout=90, interval=0.5,
                   what="every recording rule to return data for live traffic")
    assert {200, 404, 422} <= set(burst.statuses)

    # The service's and Prometheus's own targets are scraped successfully.
    health = {t["labels"]["job"]: t["health"] for t in prometheus.targets()}
    assert health == {"model-service": "up", "prometheus": "up"}

    # Every rule (recording and alerting) evaluated without an error.
    def all_rules_evaluated() -> list[dict]:
        rules = [r for g in prometheus.rule_groups() for r in g["rules"]]
        return rules if all(r["health"] != "unknown" for r in rules) else []

    rules = wait_until(all_rules_evaluated, timeout=30, what="every rule evaluated once")
    assert len(rules) == len(catalog.rules())
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []

    # Spot checks that the numbers mean what they say: the renamed field shows up in the 422 share, and
    # no request failed with a 5xx.
    assert prometheus.value('route:aiops_http_request_validation_errors:ratio_rate5m{route="/predict"}') > 0
    assert prometheus.value('slo:sli_error:ratio_rate5m{slo="availability"}') == 0

    # Every runbook query evaluates, and every curl the runbooks give works against the live lab.
    errors = []
    for runbook, query in catalog.runbook_promql():
        resp = lab_http.post(f"{prometheus.url}/api/v1/query", data={"query": query}, timeout=10.0)
        if resp.status_code != 200 or resp.json().get("status") != "success":
            errors.append(f"{runbook}: {query!r}: {resp.text[:300]}")
    ran = 0
    env = _recorded_lab(service, prometheus, tmp_path / "lab-state")
    for runbook, line in catalog.runbook_shell_lines():
        if line.startswith("curl "):
            outcome = _run_runbook_curl(line, env, tmp_path)
            ran += outcome is not None
            if outcome:
                errors.append(f"{runbook}: {outcome}")
    assert not errors, "\n".join(errors)
    assert ran >= 8

    # Kill the service: in lab mode ModelServiceDown (for: 1m / 12 = 5s) must fire within seconds.
    service.process.stop()
    wait_until(lambda: prometheus.vector('ALERTS{alertname="ModelServiceDown", alertstate="firing"}'),
               timeout=30, interval=0.5, what="ModelServiceDown to fire after the service stopped")
    return (f"{len(recording)} recording rules with data, {len(rules)} rules healthy, {ran} runbook curls ran, "
            "ModelServiceDown fired")


JOBS = [Job("monitoring: lab Prometheus against the live service", lab_prometheus_against_the_live_service,
            cost_s=40, beside_heavy=True, uses_lab=False)]
