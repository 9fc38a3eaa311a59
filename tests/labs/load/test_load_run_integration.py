"""Real Locust against the real model service on loopback: counts agree, feedback lands, thresholds bite."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import pytest

from aiops_core import http as lab_http
from aiops_core.errors import ExitStatus
from aiops_core.polling import wait_until
from labs.load.locustfile import BATCH, FEEDBACK, SINGLE
from model_service.prediction_log import connect
from tests.labs.load.conftest import report_dirs, request_counts, run_cli
from tests.support.lab import CLI
from tests.support.processes import ManagedProcess, ServiceUnderTest, free_port
from tests.support.speed import scaled

pytestmark = pytest.mark.integration


def set_flag(service: ServiceUnderTest, flag: str, value: object) -> None:
    resp = httpx.put(f"{service.url}/admin/config/{flag}", headers=service.admin_headers,
                     json={"value": value, "reason": "load test"}, timeout=5.0)
    assert resp.status_code == 200, resp.text


def by_name(summary: dict) -> dict[str, dict]:
    return {e["name"]: e for e in summary["entries"]}


def test_spike_run_is_counted_alike_by_locust_and_the_service(service: ServiceUnderTest, cli_env) -> None:
    result = run_cli(cli_env, "load", "run", "--host", service.url, "--profile", "spike", "--users", "20",
                     "--duration", "10s", "--think-scale", "0.2", "--feedback-delay", "1s", "--feedback-ratio", "1",
                     "--batch-size", "5", "--seed", "3", "--max-failure-ratio", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "thresholds met" in result.stdout
    [out] = report_dirs(cli_env)
    assert out.name.endswith("-spike")
    summary = json.loads((out / "summary.json").read_text())
    stats = by_name(summary)
    assert summary["total"]["failures"] == 0
    assert summary["total"]["requests"] > 200
    assert stats[SINGLE]["requests"] > 100 and stats[FEEDBACK]["requests"] > 50

    # The service's own counters see exactly what Locust sent, route by route (Locust stops users only
    # after their request in flight, so nothing is lost on either side).
    predicts = stats[SINGLE]["requests"] + stats.get(BATCH, {"requests": 0})["requests"]
    counts = request_counts(service.url)
    assert counts["/predict"] == predicts
    assert counts["/feedback"] == stats[FEEDBACK]["requests"]
    assert counts["feedback_total"] == stats[FEEDBACK]["requests"]  # every feedback matched a prediction

    # Ground truth reached the prediction log, where quality monitoring and retraining read it.
    def feedback_rows() -> int:
        with connect(service.state_dir / "predictions.db", readonly=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]

    wait_until(lambda: feedback_rows() == stats[FEEDBACK]["requests"], timeout=10, what="feedback rows")

    # The spike shape ran: a baseline of 20% of the users, then the full 20 for a while.
    with (out / "locust_stats_history.csv").open() as f:
        user_counts = [int(r["User Count"]) for r in csv.DictReader(f) if r["Name"] == "Aggregated"]
    assert max(user_counts) == 20
    assert 4 in user_counts
    for name in ("report.html", "locust_stats.csv", "locust_failures.csv", "run.json"):
        assert (out / name).is_file(), name

    # The last progress line counts the run as the results table does (issue 12: it showed the rate of the
    # last 5 s of a spike, the table the whole run's average, both called "rps").
    progress = json.loads((out / "progress.json").read_text())
    same = ("rps", "requests", "failures", "p95_ms")
    assert {k: progress[k] for k in same} == {k: summary["total"][k] for k in same}
    [last_line] = [line for line in result.stdout.splitlines() if " users " in line and " rps " in line]
    assert f"rps {summary['total']['rps']:.1f} (now " in last_line, last_line
    assert f"reqs {summary['total']['requests']} " in last_line, last_line


def test_thresholds_fail_the_run_when_breached(shared_service: ServiceUnderTest, cli_env) -> None:
    service = shared_service
    try:
        set_flag(service, "error_ratio", 0.5)
        set_flag(service, "extra_latency_ms", 300)
        result = run_cli(cli_env, "load", "run", "--host", service.url, "--users", "4", "--duration", "6s",
                         "--think-scale", "0.2", "--max-failure-ratio", "0.01", "--max-p99-ms", "100")
    finally:
        set_flag(service, "error_ratio", 0.0)
        set_flag(service, "extra_latency_ms", 0)
    assert result.returncode == ExitStatus.CHECK_FAILED, result.stdout + result.stderr
    assert "thresholds breached: failure ratio" in result.stderr
    assert "p99" in result.stderr and "> 100 ms" in result.stderr
    out = report_dirs(cli_env)[-1]
    assert "HTTP 500" in (out / "locust_failures.csv").read_text()
    assert len(json.loads((out / "run.json").read_text())["breaches"]) == 2


def test_thresholds_met_exit_zero(shared_service: ServiceUnderTest, cli_env) -> None:
    # 6 s, not 2: on a busy machine Locust's own start-up can eat a 2-second run before the first request.
    result = run_cli(cli_env, "load", "run", "--host", shared_service.url, "--users", "2", "--duration", "6s",
                     "--think-scale", "0.2", "--max-failure-ratio", "0.01", "--max-p99-ms", "5000")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "thresholds met" in result.stdout


def test_capacity_steps_users_and_saves_the_table(shared_service: ServiceUnderTest, cli_env) -> None:
    result = run_cli(cli_env, "load", "capacity", "--host", shared_service.url, "--start-users", "2",
                     "--max-users", "4", "--step", "2s", "--budget", "60s", "--max-p99-ms", "5000")
    assert result.returncode == 0, result.stdout + result.stderr
    [out] = report_dirs(cli_env)
    saved = json.loads((out / "capacity.json").read_text())
    assert [s["users"] for s in saved["steps"]] == [2, 4]
    assert all(s["requests"] > 0 and s["ok"] for s in saved["steps"])
    assert saved["knee"]["rps"] == max(s["rps"] for s in saved["steps"])
    assert "knee:" in result.stdout


def test_ui_serves_on_loopback_and_stops_with_the_cli(shared_service: ServiceUnderTest, cli_env,
                                                     tmp_path: Path) -> None:
    port = free_port()
    ui = ManagedProcess([*CLI, "load", "ui", "--host", shared_service.url, "--port", str(port)],
                        cli_env, tmp_path / "ui.log").start()
    try:
        wait_until(lambda: lab_http.get(f"http://127.0.0.1:{port}/", timeout=1.0).status_code == 200,
                   timeout=scaled(30), what="Locust web UI")
    finally:
        ui.stop()

    def closed() -> bool:
        try:
            lab_http.get(f"http://127.0.0.1:{port}/", timeout=1.0)
        except httpx.TransportError:
            return True
        return False

    wait_until(closed, timeout=15, what="Locust UI to stop with the CLI")
