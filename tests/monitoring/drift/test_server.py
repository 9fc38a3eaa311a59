"""The drift monitor as a real process (``python -m monitoring.drift`` on a free port), and the CLI against a
log written by the real model service."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from model_service.generator import generate, records
from monitoring.drift import metrics
from tests.monitoring.drift.traffic import log_traffic
from tests.support.processes import ADMIN_TOKEN, ManagedProcess, free_port, lab_env

pytestmark = pytest.mark.integration
LAB_CALLER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}  # POST /run needs the lab's token (test_run_auth.py)


@pytest.fixture(scope="module")
def monitor_url(trained_registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One monitor process for this module, over a log of 1000 covariate-shifted predictions (half with
    feedback), keeping 2 reports. Each test asserts on the runs it triggers itself."""
    lab_state = tmp_path_factory.mktemp("drift-server")
    shutil.copytree(trained_registry, lab_state / "models")
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", 1000, 8, "covariate-shift")
    port = free_port()
    env = lab_env(lab_state, AIOPS_DRIFT_MONITOR_PORT=str(port), AIOPS_DRIFT_INTERVAL_S="3600",
                  AIOPS_DRIFT_REPORTS_KEEP="2", AIOPS_DRIFT_MIN_ROWS="500", AIOPS_ADMIN_TOKEN=ADMIN_TOKEN)
    proc = ManagedProcess([sys.executable, "-m", "monitoring.drift"], env, lab_state / "drift.log").start()
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.proc is not None and proc.proc.poll() is not None:
            raise AssertionError(f"drift monitor exited:\n{proc.output()[-3000:]}")
        return lab_http.get(url + "/healthz", timeout=1.0).status_code == 200

    try:
        wait_until(healthy, timeout=30, what="drift monitor /healthz")
        yield url
    finally:
        proc.stop()
        assert "Finished server process" in proc.output(), proc.output()[-3000:]  # a graceful shutdown


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = lab_http.get(url + "/metrics", timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_endpoint_exports_the_last_run(monitor_url: str) -> None:
    summary = lab_http.post(monitor_url + "/run", headers=LAB_CALLER, timeout=120).json()
    assert summary["outcome"] == "success", summary["reason"]
    got = _scrape(monitor_url)
    features = {f["name"]: f for f in summary["features"]}

    assert got[("aiops_drift_feature_score", (("feature", "distance_km"),))] == pytest.approx(
        features["distance_km"]["score"])
    assert got[("aiops_drift_feature_drifted", (("feature", "distance_km"),))] == 1
    assert got[("aiops_drift_feature_drifted", (("feature", "items_count"),))] == 0
    assert got[("aiops_drift_feature_missing_share", (("feature", "traffic_index"),))] == 0
    assert got[("aiops_drift_dataset_drift_share", ())] == pytest.approx(summary["dataset"]["share"]) == 0.2
    assert got[("aiops_drift_dataset_drifted", ())] == 0
    assert got[("aiops_drift_prediction_drifted", ())] == 1
    assert got[("aiops_drift_prediction_score", ())] == pytest.approx(summary["prediction"]["score"])
    assert got[("aiops_quality_mae_seconds", ())] == pytest.approx(summary["quality"]["mae_seconds"])
    assert got[("aiops_quality_rmse_seconds", ())] == pytest.approx(summary["quality"]["rmse_seconds"])
    assert got[("aiops_quality_rows", ())] == 500
    assert got[("aiops_drift_rows_evaluated", (("dataset", "current"),))] == 1000
    assert got[("aiops_drift_rows_evaluated", (("dataset", "reference"),))] == 2000
    assert got[("aiops_drift_insufficient_data", ())] == 0
    assert got[("aiops_drift_last_success_timestamp_seconds", ())] >= summary["started_at"]
    assert got[("aiops_drift_runs_total", (("outcome", "success"),))] >= 1
    assert got[("aiops_drift_feature_method_info",
                (("feature", "is_peak_hour"), ("method", "jensenshannon"), ("threshold", "0.1")))] == 1
    assert {name for name, _ in got} <= metrics.all_metric_names()


def test_reports_are_served_newest_first_and_pruned(monitor_url: str) -> None:
    runs = [lab_http.post(monitor_url + "/run", headers=LAB_CALLER, timeout=120).json() for _ in range(3)]
    index = lab_http.get(monitor_url + "/reports/index.json", timeout=5).json()["reports"]
    assert [r["json_file"] for r in index] == [runs[2]["json_file"], runs[1]["json_file"]]  # keep = 2
    page = lab_http.get(monitor_url + "/reports", timeout=5).text
    assert page.index(runs[2]["html_file"]) < page.index(runs[1]["html_file"])
    assert runs[0]["html_file"] not in page and "distance_km" in page
    assert '<section class="trend"><h2>Trend over the 2 kept runs</h2>' in page and "<svg" in page
    html = lab_http.get(f"{monitor_url}/reports/{runs[2]['html_file']}", timeout=10)
    assert html.status_code == 200 and "<html" in html.text[:500]
    assert lab_http.get(f"{monitor_url}/reports/{runs[0]['html_file']}", timeout=5).status_code == 404
    missing = lab_http.get(f"{monitor_url}/reports/predictions.db", timeout=5)
    assert missing.status_code == 404 and "index.json" in missing.json()["detail"]
    health = lab_http.get(monitor_url + "/healthz", timeout=5).json()
    assert health["last_run"]["outcome"] == "success" and health["last_run"]["rows"] == 1000


def test_cli_report_on_traffic_logged_by_the_real_service(service, tmp_path: Path) -> None:
    frame = generate(1000, 21, "unit-error")
    with service.client() as client:
        response = client.post("/predict", json={"instances": records(frame)})
        assert response.status_code == 200, response.text
    log = service.state_dir / "predictions.db"

    def logged() -> bool:
        with sqlite3.connect(log) as conn:
            return conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 1000

    wait_until(logged, timeout=20, what="1000 predictions in the log")
    out = tmp_path / "report.html"
    result = subprocess.run([str(Path(sys.executable).with_name("aiops-lab")), "drift", "report", "--rows", "1000",
                             "--out", str(out)], env=lab_env(service.state_dir, COLUMNS="160"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "distance_km" in line)
    assert "wasserstein" in row and "DRIFT" in row
    assert "1000 rows served by v1" in result.stdout
    assert "<html" in out.read_text()[:500]


def test_importing_the_monitor_and_the_cli_does_not_import_evidently() -> None:
    code = ("import sys\n"
            "from click.testing import CliRunner\n"
            "from labs.cli.main import cli\n"
            "for args in (['--help'], ['drift', '--help'], ['drift', 'report', '--help']):\n"
            "    assert CliRunner().invoke(cli, args).exit_code == 0, args\n"
            "import monitoring.drift.__main__, monitoring.drift.server, monitoring.drift.monitor\n"
            "assert 'evidently' not in sys.modules, 'evidently was imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_monitor_refuses_to_start_with_a_malformed_config(tmp_path: Path) -> None:
    bad = tmp_path / "drift.yml"
    bad.write_text("features:\n  is_peak_hour: {method: wasserstein, threshold: 0.1}\n")
    env = lab_env(tmp_path, AIOPS_DRIFT_CONFIG=str(bad), AIOPS_DRIFT_MONITOR_PORT=str(free_port()))
    result = subprocess.run([sys.executable, "-m", "monitoring.drift"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "features.is_peak_hour.method: 'wasserstein' cannot test" in result.stderr
