"""A restarted drift monitor knows when it last succeeded (issue 14, item 9d).

It used to export ``aiops_drift_last_success_timestamp_seconds 0`` until its first run of the new process,
and 0 for good when that run failed: "never succeeded", 56 years ago. It now starts from its newest kept
report. The other half of the fix, a series too young to be judged by ``changes()``, is the rule's and is
tested with promtool (monitoring/prometheus/tests/drift-alerts.test.yml).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from monitoring.drift import metrics
from monitoring.drift.summary import RunSummary
from tests.support.processes import free_port, lab_env, start_http_process

pytestmark = pytest.mark.integration
LAST_SUCCESS = "aiops_drift_last_success_timestamp_seconds"


def _metric(url: str, name: str) -> float:
    text = lab_http.get(f"{url}/metrics", timeout=5.0).text
    return next(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)


def _runs(url: str, outcome: str) -> float:
    text = lab_http.get(f"{url}/metrics", timeout=5.0).text
    return next(s.value for f in text_string_to_metric_families(text) for s in f.samples
                if s.name == "aiops_drift_runs_total" and s.labels == {"outcome": outcome})


def test_a_restarted_monitor_exports_its_last_success_not_zero(trained_registry: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    shutil.copytree(trained_registry, state / "models")
    reports = state / "reports" / "drift"
    reports.mkdir(parents=True)
    # What the previous process left: one report of a successful run ten minutes ago.
    before = RunSummary(run_id="1", started_at=time.time() - 600, duration_seconds=4.5, outcome="success",
                        model_version="v1")
    (reports / "drift-20261202T101010-000Z.json").write_text(
        json.dumps({"summary": before.model_dump(mode="json"), "evidently": {}}))
    # The new process's runs fail: no prediction log (as after a restart on a broken disk).
    port = free_port()
    env = lab_env(state, AIOPS_DRIFT_MONITOR_PORT=str(port), AIOPS_DRIFT_INTERVAL_S="3600",
                  AIOPS_DRIFT_PREDICTION_LOG=str(state / "missing" / "predictions.db"))
    proc = start_http_process("monitoring.drift", "drift monitor", state, env, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _runs(url, "failure") >= 1, timeout=30, what="the new process's first (failing) run")
        assert _metric(url, LAST_SUCCESS) == pytest.approx(before.started_at + before.duration_seconds, abs=0.01)
        assert LAST_SUCCESS in metrics.all_metric_names()  # the name asserted is the one exported
    finally:
        proc.stop()
