"""Each incident scenario of the generator is caught by the signal meant for it, and healthy traffic is not.

Real Evidently over a real SQLite prediction log written by the service's own writer and predictor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from monitoring.drift.monitor import Monitor
from monitoring.drift.summary import RunSummary
from tests.monitoring.drift.traffic import log_traffic

WINDOW = 1000


def _feature(summary: RunSummary, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in summary.features if f.name == name)


def _run(make_monitor: Callable[..., Monitor], lab_state: Path, scenario: str, seed: int = 5,
         **settings: object) -> RunSummary:
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", WINDOW, seed, scenario)
    summary = make_monitor(**settings).run_once()
    assert summary.outcome == "success", summary.reason
    return summary


def test_healthy_traffic_raises_no_dataset_drift_in_20_seeds(make_monitor, lab_state: Path,
                                                            record_property) -> None:
    monitor = make_monitor(reports_keep=1)
    verdicts, max_share, max_score = [], 0.0, 0.0
    for seed in range(20):
        log = lab_state / f"predictions-{seed}.db"
        log_traffic(log, lab_state / "models", "v1", WINDOW, 100 + seed, "normal", feedback_every=0)
        monitor.settings = monitor.settings.model_copy(update={"prediction_log": log})
        summary = monitor.run_once(save=False)
        assert summary.outcome == "success", summary.reason
        verdicts.append(summary.dataset.drifted)
        max_share = max(max_share, summary.dataset.share)
        max_score = max(max_score, *(f.score for f in summary.features))
    rate = sum(verdicts) / len(verdicts)
    record_property("dataset_drift_false_positive_rate", rate)
    print(f"\ndataset-drift false-positive rate over 20 seeds ({WINDOW}-row windows): {rate:.0%}; "
          f"max drift share {max_share:.2f}; max feature score {max_score:.3f}")
    assert rate <= 0.05


def test_covariate_shift_drifts_distance_and_predictions(make_monitor, lab_state: Path) -> None:
    summary = _run(make_monitor, lab_state, "covariate-shift")
    assert _feature(summary, "distance_km").drifted is True
    assert [f.name for f in summary.features if f.drifted] == ["distance_km"]
    assert summary.prediction.drifted is True
    assert summary.dataset.drifted is False  # one feature of five: a shift, not a different dataset


def test_broken_feed_null_shows_as_missing_share_not_as_a_score(make_monitor, lab_state: Path) -> None:
    summary = _run(make_monitor, lab_state, "feed-broken-null")
    traffic = _feature(summary, "traffic_index")
    assert traffic.missing_share == 1.0
    assert traffic.score is None and traffic.drifted is None and "missing" in traffic.note
    assert summary.dataset.tested_features == 4
    assert all(f.missing_share == 0.0 for f in summary.features if f.name != "traffic_index")


def test_broken_feed_zero_shows_as_zero_share_constant_and_drift(make_monitor, lab_state: Path) -> None:
    summary = _run(make_monitor, lab_state, "feed-broken-zero")
    traffic = _feature(summary, "traffic_index")
    assert traffic.zero_share == 1.0 and traffic.constant is True and traffic.drifted is True
    assert traffic.missing_share == 0.0
    assert _feature(summary, "distance_km").zero_share == 0.0


def test_unit_error_drifts_distance_and_leaves_the_training_range(make_monitor, lab_state: Path) -> None:
    summary = _run(make_monitor, lab_state, "unit-error")
    distance = _feature(summary, "distance_km")
    assert distance.drifted is True and distance.score > 100
    assert distance.out_of_range_share > 0.95
    assert _feature(summary, "items_count").out_of_range_share < 0.01


def test_concept_drift_raises_mae_while_inputs_stay_put(make_monitor, lab_state: Path) -> None:
    healthy = _run(make_monitor, lab_state, "normal", seed=6)
    (lab_state / "predictions.db").unlink()
    drifted = _run(make_monitor, lab_state, "concept-drift", seed=6)
    assert drifted.quality.rows == WINDOW // 2
    assert drifted.quality.mae_seconds > 3 * healthy.quality.mae_seconds
    assert drifted.quality.mean_error_seconds < -5 * 60  # the model now under-predicts by minutes
    assert healthy.quality.mae_seconds < 1.5 * healthy.quality.training_mae_seconds
    assert not any(f.drifted for f in drifted.features) and drifted.prediction.drifted is False
    assert drifted.dataset.share == 0.0


def test_method_does_not_switch_when_the_reference_is_small(make_monitor, lab_state: Path) -> None:
    """Evidently's default would use K-S (p-value) at <= 1000 reference rows; ours stays Wasserstein."""
    ref_path = lab_state / "models" / "v1" / "reference.csv"
    pd.read_csv(ref_path).head(900).to_csv(ref_path, index=False)
    summary = _run(make_monitor, lab_state, "normal")
    assert summary.reference_rows == 900
    report = json.loads((lab_state / "reports" / "drift" / str(summary.json_file)).read_text())
    names = [m["metric_name"] for m in report["evidently"]["metrics"] if m["metric_name"].startswith("ValueDrift")]
    assert "ValueDrift(column=distance_km,method=wasserstein,threshold=0.2)" in names
    assert "ValueDrift(column=is_peak_hour,method=jensenshannon,threshold=0.1)" in names
    assert not any("method=ks" in n for n in names)
    assert all(0 <= f.score < 1 for f in summary.features)  # distances, not p-values near 1


def _bigger_orders(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(items_count=frame["items_count"] * 3)


@pytest.mark.parametrize(("scenario", "transform", "expected"), [
    ("rain", None, False),  # 1 of 5 features
    ("unit-error", _bigger_orders, False),  # 2 of 5 = 0.4 < 0.5
    ("rain", lambda f: _bigger_orders(f.assign(distance_km=f["distance_km"] * 2)), True),  # 3 of 5
])
def test_dataset_drift_is_the_share_of_drifted_features(make_monitor, lab_state: Path, scenario: str,
                                                        transform, expected: bool) -> None:
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", WINDOW, 3, scenario, transform=transform)
    summary = make_monitor().run_once()
    drifted = sum(bool(f.drifted) for f in summary.features)
    assert summary.dataset.share == pytest.approx(drifted / 5)
    assert summary.dataset.drifted is expected
