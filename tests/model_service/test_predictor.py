"""The serving path: a hand-rolled dot product that must equal sklearn's predict, plus anomaly counting."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import REGISTRY

from model_service import training
from model_service.features import FEATURE_NAMES
from model_service.predictor import ServingModel, load_active
from model_service.registry import Registry


@pytest.fixture(scope="module")
def registry(trained_registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    root = tmp_path_factory.mktemp("predictor") / "models"
    shutil.copytree(trained_registry, root)
    return Registry(root)


@pytest.fixture(scope="module")
def model(registry: Registry) -> ServingModel:
    return load_active(registry)


def _anomalies(feature: str, kind: str) -> float:
    return REGISTRY.get_sample_value("aiops_feature_anomalies_total", {"feature": feature, "kind": kind}) or 0.0


def test_fast_path_equals_estimator_predict_on_golden_set(model: ServingModel) -> None:
    golden = training.golden_set()[list(FEATURE_NAMES)]
    expected = model.loaded.estimator.predict(golden.to_numpy(dtype=float))
    got = model.predict_rows(golden.to_numpy(dtype=object).tolist())
    assert np.allclose(got, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("missing", FEATURE_NAMES)
def test_none_is_imputed_with_the_training_median(model: ServingModel, missing: str) -> None:
    row = [3.0, 2, 0, 4.0, 12.0]
    i = FEATURE_NAMES.index(missing)
    with_median = list(row)
    with_median[i] = model.loaded.card.feature_ranges[missing].median
    row[i] = None
    before = _anomalies(missing, "missing")
    [got] = model.predict_rows([row])
    assert got == pytest.approx(float(model.loaded.estimator.predict(np.array([with_median], dtype=float))[0]))
    assert _anomalies(missing, "missing") == before + 1


def test_zero_and_out_of_range_inputs_are_counted(model: ServingModel) -> None:
    hi = model.loaded.card.feature_ranges["distance_km"].max
    before = {(f, k): _anomalies(f, k) for f, k in (("distance_km", "out_of_training_range"),
                                               ("traffic_index", "zero"), ("is_peak_hour", "zero"))}
    model.predict_rows([[hi * 1000, 2, 0, 0.0, 12.0], [hi * 2, 2, 0, 0.0, 12.0], [1.0, 2, 0, 5.0, 12.0]])
    assert _anomalies("distance_km", "out_of_training_range") == before["distance_km", "out_of_training_range"] + 2
    assert _anomalies("traffic_index", "zero") == before["traffic_index", "zero"] + 2
    # is_peak_hour=0 is an ordinary value, not a broken feed: not counted as "zero".
    assert _anomalies("is_peak_hour", "zero") == before["is_peak_hour", "zero"]


def test_load_active_publishes_the_model_identity(registry: Registry) -> None:
    v2 = load_active(registry, "v2")
    card = v2.loaded.card
    labels = {"version": "v2", "algorithm": "LinearRegression", "data_scenario": card.data_scenario,
              "training_data_hash": card.training_data_hash[:12]}
    assert REGISTRY.get_sample_value("aiops_model_info", labels) == 1.0
    assert REGISTRY.get_sample_value("aiops_model_created_timestamp_seconds") == pytest.approx(v2.created_ts)
    v1 = load_active(registry)
    assert v1.version == "v1"
    assert REGISTRY.get_sample_value("aiops_model_info", labels) is None  # only the active model is 1


def test_explanations_sum_to_prediction_minus_background_mean(model: ServingModel, registry: Registry) -> None:
    background = registry.reference("v1")[list(FEATURE_NAMES)].to_numpy(dtype=float)[:200]
    row = [7.5, 4, 1, None, 30.0]
    explanation = model.explain(row, background)
    assert list(explanation) == list(FEATURE_NAMES)
    [pred] = model.predict_rows([row])
    baseline = float(np.mean(background @ np.array(model.coefficients) + model.intercept))
    assert sum(explanation.values()) == pytest.approx(pred - baseline, abs=1e-3)


def _all_anomalies() -> dict[tuple[str, str], float]:
    return {(f, k): _anomalies(f, k) for f in FEATURE_NAMES for k in ("missing", "zero", "out_of_training_range")}


def test_batch_path_predicts_bit_for_bit_what_the_row_path_predicts(model: ServingModel) -> None:
    """A row gets the same prediction alone or in a batch, and both paths count the same anomalies."""
    golden = training.golden_set()[list(FEATURE_NAMES)].to_numpy(dtype=object).tolist()
    hi = model.loaded.card.feature_ranges["distance_km"].max
    odd = [[3.0, 2, 0, None, 12.0], [0.0, 1, 1, 0.0, 0.0], [hi * 10, 200, 1, 10.0, 600.0], [None, 3, 0, None, None]]
    rows = [*golden, *odd] * 3

    before = _all_anomalies()
    by_row = model.predict_rows(rows)
    counted_by_row = {k: v - before[k] for k, v in _all_anomalies().items()}
    before = _all_anomalies()
    by_matrix = model.predict_matrix(np.array(rows, dtype=float)).tolist()
    counted_by_matrix = {k: v - before[k] for k, v in _all_anomalies().items()}

    assert by_matrix == by_row  # exact, not approximately
    assert counted_by_matrix == counted_by_row
    assert counted_by_row["traffic_index", "missing"] == 6 and counted_by_row["is_peak_hour", "zero"] == 0
