"""Edge cases a monitor meets in a real lab: no traffic, little traffic, a dead feed, a deploy, a missing
or locked log, no model. None of them may kill the monitor or page anyone; failures are counted and the
next run recovers on its own."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from model_service.registry import Registry
from monitoring.drift import metrics as m
from monitoring.drift.summary import RunSummary
from tests.monitoring.drift.traffic import empty_log, log_traffic


def _sample(name: str, **labels: str) -> float:
    value = m.REGISTRY.get_sample_value(name, labels)
    assert value is not None, f"{name}{labels} is not exported"
    return value


def _runs(outcome: str) -> float:
    return _sample("aiops_drift_runs_total", outcome=outcome)


def _reports(lab_state: Path) -> list[str]:
    root = lab_state / "reports" / "drift"
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def _assert_no_verdict_exported() -> None:
    assert _sample("aiops_drift_insufficient_data") == 1
    assert math.isnan(_sample("aiops_drift_dataset_drifted"))
    assert math.isnan(_sample("aiops_drift_dataset_drift_share"))
    assert math.isnan(_sample("aiops_drift_feature_drifted", feature="distance_km"))
    assert math.isnan(_sample("aiops_drift_prediction_drifted"))


def test_empty_window_is_insufficient_data_not_an_alarm(make_monitor, lab_state: Path) -> None:
    empty_log(lab_state / "predictions.db")
    monitor = make_monitor()
    before = _runs("insufficient_data")
    summary = monitor.run_once()
    assert summary.outcome == "insufficient_data" and "0 rows served by v1" in summary.reason
    assert _runs("insufficient_data") == before + 1
    _assert_no_verdict_exported()
    assert _sample("aiops_drift_rows_evaluated", dataset="current") == 0
    assert _reports(lab_state) == []  # no report without a verdict


def test_too_few_rows_says_so_and_counts_them(make_monitor, lab_state: Path) -> None:
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", 120, 1, "unit-error")
    summary = make_monitor().run_once()
    assert summary.outcome == "insufficient_data"
    assert "120 rows" in summary.reason and "needs 500" in summary.reason
    assert summary.dataset is None and summary.features == []
    _assert_no_verdict_exported()  # even a glaring unit error is no verdict on 120 rows
    assert _sample("aiops_drift_rows_evaluated", dataset="current") == 120
    assert _sample("aiops_drift_last_success_timestamp_seconds") >= summary.started_at


def test_time_window_excludes_old_rows(make_monitor, lab_state: Path) -> None:
    import time

    log = lab_state / "predictions.db"
    log_traffic(log, lab_state / "models", "v1", 800, 1, "unit-error", end_ts=time.time() - 7200)
    log_traffic(log, lab_state / "models", "v1", 600, 2, "normal", prefix="new-")
    summary = make_monitor(window_s=600).run_once()
    assert summary.window.rows == 600 and summary.dataset.share == 0.0
    capped = make_monitor(window_s=0, window_rows=500).run_once()
    assert capped.window.rows == 500 and capped.dataset.share == 0.0  # the newest 500 only


def test_feature_with_only_nulls_is_reported_as_missing_and_the_run_goes_on(make_monitor,
                                                                             lab_state: Path) -> None:
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", 700, 2, "feed-broken-null")
    summary = make_monitor().run_once()
    assert summary.outcome == "success", summary.reason
    assert _sample("aiops_drift_feature_missing_share", feature="traffic_index") == 1.0
    assert math.isnan(_sample("aiops_drift_feature_score", feature="traffic_index"))
    assert math.isnan(_sample("aiops_drift_feature_drifted", feature="traffic_index"))
    assert _sample("aiops_drift_feature_drifted", feature="distance_km") == 0
    assert _sample("aiops_drift_insufficient_data") == 0
    assert summary.html_file in _reports(lab_state)


def test_mid_window_deploy_compares_only_the_active_versions_rows(make_monitor, lab_state: Path) -> None:
    """v1 served the first half of the window, then v2 (trained on shuffled labels: its predictions
    are squeezed towards the mean) was deployed. Mixing v1's predictions into v2's comparison would
    report prediction drift that is really the deploy."""
    import time

    log, models = lab_state / "predictions.db", lab_state / "models"
    log_traffic(log, models, "v1", 800, 1, "normal", end_ts=time.time() - 60)
    Registry(models).activate("v2", actor="test")
    few = make_monitor().run_once()
    assert few.outcome == "insufficient_data" and "800 of v1" in few.reason
    log_traffic(log, models, "v2", 600, 2, "normal")
    summary = make_monitor().run_once()
    assert summary.outcome == "success" and summary.model_version == "v2"
    assert summary.window.rows == 600 and summary.window.other_versions == {"v1": 800}
    assert summary.prediction.drifted is False
    assert summary.quality.rows == 300


def test_missing_log_is_a_counted_failure_and_the_next_run_recovers(make_monitor, lab_state: Path) -> None:
    monitor = make_monitor()  # the same monitor keeps running, as in the server
    failures = _runs("failure")
    summary = monitor.run_once()
    assert summary.outcome == "failure" and "does not exist" in summary.reason
    assert _runs("failure") == failures + 1
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", 600, 3, "normal")
    assert monitor.run_once().outcome == "success"
    assert _sample("aiops_drift_last_success_timestamp_seconds") > summary.started_at


def test_locked_log_is_a_counted_failure_and_the_next_run_recovers(make_monitor, lab_state: Path) -> None:
    log = lab_state / "predictions.db"
    log_traffic(log, lab_state / "models", "v1", 600, 3, "covariate-shift")
    monitor = make_monitor()
    assert monitor.run_once().outcome == "success"
    last_good = _sample("aiops_drift_feature_score", feature="distance_km")
    holder = sqlite3.connect(log, isolation_level=None)
    try:  # an exclusive lock, as a long migration or a vacuum would hold
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        failures = _runs("failure")
        summary = monitor.run_once()
        assert summary.outcome == "failure" and "locked" in summary.reason
        assert _runs("failure") == failures + 1
        # gauges keep the last good values; freshness is what ages
        assert _sample("aiops_drift_feature_score", feature="distance_km") == last_good
    finally:
        holder.close()
    assert monitor.run_once().outcome == "success"


def test_no_active_model_is_a_counted_failure(make_monitor, lab_state: Path) -> None:
    (lab_state / "models" / "active.json").unlink()
    empty_log(lab_state / "predictions.db")
    monitor = make_monitor()
    failures = _runs("failure")
    summary: RunSummary = monitor.run_once()
    assert summary.outcome == "failure" and "aiops-lab model train" in summary.reason
    assert _runs("failure") == failures + 1


def test_a_corrupt_active_pointer_is_a_counted_failure_naming_the_file(make_monitor, lab_state: Path) -> None:
    pointer = lab_state / "models" / "active.json"
    pointer.write_bytes(pointer.read_bytes()[:20])  # issue 14: a truncated pointer failed with a JSONDecodeError
    empty_log(lab_state / "predictions.db")
    summary: RunSummary = make_monitor().run_once()
    assert summary.outcome == "failure", summary
    assert f"{pointer} is corrupt" in summary.reason and "aiops-lab model repair" in summary.reason


@pytest.mark.parametrize("window_rows", [0, 5000])
def test_window_limits_zero_means_unlimited(make_monitor, lab_state: Path, window_rows: int) -> None:
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", 550, 4, "normal")
    summary = make_monitor(window_s=0, window_rows=window_rows).run_once()
    assert summary.window.rows == 550
