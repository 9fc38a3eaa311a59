"""``aiops-lab drift report``: reads the log directly, prints the verdicts, and turns every problem into a
LabError that names the fix (exit codes from aiops_core.errors.ExitStatus)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from aiops_core.errors import ExitStatus
from labs.cli import output
from labs.cli.main import cli
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
    rows = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│")}
    assert "DRIFT" in rows["distance_km"] and "wasserstein" in rows["distance_km"]
    assert "DRIFT" not in rows["items_count"] and "jensenshannon" in rows["is_peak_hour"]
    assert "no dataset drift: 20% of 5 tested features drifted" in result.output
    assert "MAE" in result.output and "350 predictions with feedback" in result.output
    saved = ReportStore(lab_state / "reports" / "drift", keep=10).entries()
    assert len(saved) == 1 and saved[0].html_file in result.output.replace("\n", "")


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
