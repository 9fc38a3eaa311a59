"""``aiops-lab drift report``: reads the log directly, prints the verdicts, and turns every problem into a
LabError that names the fix (exit codes from aiops_core.errors.ExitStatus)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aiops_core.errors import ExitStatus
from labs.cli import output
from labs.cli.main import cli
from model_service.features import FEATURE_NAMES
from monitoring.drift.reports import ReportStore
from tests.monitoring.drift.traffic import empty_log, log_traffic


@pytest.fixture
def run(lab_state: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIOPS_STATE_DIR", str(lab_state))
    # rich reads COLUMNS once, when labs.cli.output creates its console: set the width on that console.
    monkeypatch.setattr(output.console, "width", 160)

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, ["drift", "report", *args])

    return invoke


def test_report_prints_a_row_per_feature_and_saves_to_the_reports_dir(run, lab_state: Path) -> None:
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", 700, 9, "covariate-shift")
    result = run("--since", "30m")
    assert result.exit_code == 0, result.output
    rows: dict[str, str] = {}
    for line in result.output.splitlines():
        if line.startswith("│"):
            rows.setdefault(line.split()[1], line)  # the drift table comes first, then the inputs table
    assert "DRIFT" in rows["distance_km"] and "wasserstein" in rows["distance_km"]
    assert "DRIFT" not in rows["items_count"] and "jensenshannon" in rows["is_peak_hour"]
    assert "no dataset drift: 20% of 5 tested features drifted" in result.output
    assert "MAE" in result.output and "350 predictions with feedback" in result.output
    saved = ReportStore(lab_state / "reports" / "drift", keep=10).entries()
    assert len(saved) == 1 and saved[0].html_file in result.output.replace("\n", "")


def test_report_reads_at_80_columns_and_names_other_versions_in_words(run, lab_state: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12: the rows served by another version came out as a raw dict (``{'v2': 120}``), and at 80
    columns every feature name was cut ("distanc…")."""
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", 700, 9, "covariate-shift")
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v2", 120, 4, prefix="other-")
    monkeypatch.setattr(output.console, "width", 80)
    result = run("--since", "1h")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in result.output, result.output
    drift_rows = {line.split()[1]: line for line in lines[:12] if line.startswith("│")}
    assert set(drift_rows) == {*FEATURE_NAMES, "(prediction)"}, result.output
    assert "0.2" in drift_rows["distance_km"] and "DRIFT" in drift_rows["distance_km"]  # threshold, verdict
    assert "of 5 tested features drifted (threshold 50%): distance_km" in result.output
    assert "not compared (not the active version): 120 rows served by v2" in result.output
    assert "{" not in result.output, result.output


def test_report_json_is_the_summary_for_scripts(run, lab_state: Path) -> None:
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", 700, 9, "covariate-shift")
    result = run("--since", "30m", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    features = {f["name"]: f for f in report["features"]}
    assert set(features) == set(FEATURE_NAMES)
    assert features["distance_km"]["drifted"] is True and features["distance_km"]["score"] > 0.2
    assert report["dataset"] == {"share": 0.2, "drifted": False, "threshold": 0.5, "tested_features": 5}
    assert report["window"]["rows"] == 700 and report["model_version"] == "v1"
    assert Path(report["html_path"]).is_file()


@pytest.mark.parametrize(("args", "status", "message"), [
    (("--since", "15m", "--rows", "10"), ExitStatus.USAGE, "use --since or --rows, not both"),
    (("--since", "15 minutes"), ExitStatus.USAGE, "--since '15 minutes' is not a duration"),
    (("--rows", "10",), ExitStatus.CONFLICT, "insufficient data: 0 rows served by v1"),
    (("--out", "/nonexistent-dir/x.html"), ExitStatus.USAGE, "--out: directory /nonexistent-dir does not exist"),
])
def test_report_usage_errors_name_the_fix(run, lab_state: Path, args: tuple[str, ...], status: ExitStatus,
                                          message: str) -> None:
    empty_log(lab_state / "predictions.db")
    result = run(*args)
    assert result.exit_code == status and message in result.output, result.output


def test_report_without_a_log_points_at_starting_the_lab(run) -> None:
    result = run()
    assert result.exit_code == ExitStatus.NOT_RUNNING and "aiops-lab up" in result.output


def test_report_without_a_model_points_at_training(run, lab_state: Path) -> None:
    empty_log(lab_state / "predictions.db")
    (lab_state / "models" / "active.json").unlink()
    result = run()
    assert result.exit_code == ExitStatus.CONFLICT and "aiops-lab model train" in result.output


def test_malformed_drift_config_is_a_usage_error_naming_the_key(run, lab_state: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    bad = lab_state / "drift.yml"
    bad.write_text("features:\n  distance_km: {method: ks}\n")
    monkeypatch.setenv("AIOPS_DRIFT_CONFIG", str(bad))
    result = run()
    assert result.exit_code == ExitStatus.USAGE and "features.distance_km.threshold: missing" in result.output
