"""Training: clean data gives a good model; the deliberately bad candidates really are worse."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from model_service import generator, training
from model_service.features import FEATURE_NAMES, TARGET
from model_service.prediction_log import PredictionLog, connect


@pytest.fixture(scope="module")
def clean() -> training.TrainedModel:
    return training.train(rows=20_000, seed=7)


def _golden_mae(model: training.TrainedModel) -> float:
    golden = training.golden_set()
    pred = model.estimator.predict(golden[list(FEATURE_NAMES)].to_numpy(dtype=float))
    return float(np.mean(np.abs(pred - golden[TARGET].to_numpy())))


def test_clean_training_reaches_r2_085(clean: training.TrainedModel) -> None:
    assert clean.card.metrics["holdout"].r2 >= 0.85
    assert clean.card.metrics["golden"].r2 >= 0.85
    # A linear fit of a linear truth recovers the true coefficients.
    for name, true_coef in generator.TRUE_COEFFICIENTS.items():
        assert clean.card.coefficients[name] == pytest.approx(true_coef, abs=0.1 + 0.1 * abs(true_coef)), name


def test_card_describes_the_model(clean: training.TrainedModel) -> None:
    card = clean.card
    assert [f["name"] for f in card.feature_schema] == list(FEATURE_NAMES)
    assert set(card.feature_ranges) == set(FEATURE_NAMES)
    assert card.training_rows == 16_000 and card.corruption is None
    assert len(card.training_data_hash) == 64
    assert list(clean.reference.columns) == [*FEATURE_NAMES, TARGET]
    assert len(clean.reference) == card.reference_sample.rows == training.REFERENCE_ROWS


def test_training_is_reproducible(clean: training.TrainedModel) -> None:
    again = training.train(rows=20_000, seed=7)
    assert again.card.training_data_hash == clean.card.training_data_hash
    assert again.card.coefficients == clean.card.coefficients


@pytest.mark.parametrize("corruption", sorted(training.CORRUPTIONS))
def test_bad_candidates_are_worse_on_the_golden_set(clean: training.TrainedModel, corruption: str) -> None:
    bad = training.train(rows=20_000, seed=7, corruption=corruption)
    assert bad.card.corruption == corruption
    assert bad.card.description == training.CORRUPTIONS[corruption]
    clean_mae, bad_mae = _golden_mae(clean), _golden_mae(bad)
    assert bad_mae > 1.5 * clean_mae
    assert bad.card.metrics["golden"].mae == pytest.approx(bad_mae)
    assert bad.card.metrics["golden"].r2 < clean.card.metrics["golden"].r2 - 0.2


def test_training_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least 100"):
        training.train(rows=10)
    with pytest.raises(ValueError, match="labels-shuffled"):
        training.train(rows=500, corruption="typo")
    frame = generator.generate(200, 1).drop(columns=["traffic_index"])
    with pytest.raises(ValueError, match="traffic_index"):
        training.train_on_frame(frame, seed=1, data_scenario="normal")


def test_labelled_log_frame_joins_predictions_with_feedback(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path / "p.db")
    now = time.time()
    rows = [(f"id{i}", now, "v1", 1.0 * i, 2, 0, None, 12.0, 10.0, 1.0, "r") for i in range(3)]
    log.append_predictions(rows)
    log.append_feedback(("id1", now, 33.0, "v1", 10.0))
    log.start()
    log.close()
    frame = training.labelled_log_frame(tmp_path / "p.db")
    assert list(frame.columns) == [*FEATURE_NAMES, TARGET]
    assert frame.to_dict("records") == [{"distance_km": 1.0, "items_count": 2, "is_peak_hour": 0,
                                         "traffic_index": None, "courier_experience_months": 12.0,
                                         TARGET: 33.0}]
    conn = connect(tmp_path / "p.db", readonly=True)
    assert conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 3
    conn.close()
    with pytest.raises(ValueError, match="no prediction log"):
        training.labelled_log_frame(tmp_path / "missing.db")
