"""Data profiles: each scenario shifts the generated rows as intended, and every row keeps its true label."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from labs.load.data import DATA_PROFILES, FeedbackQueue, RowSource
from model_service.features import FEATURE_NAMES
from model_service.generator import SCENARIOS, true_minutes

N = 3000


def rows(scenario: str, seed: int = 11, stream: int = 0) -> tuple[list[dict], list[float]]:
    return RowSource(scenario, seed=seed, stream=stream, chunk_size=500).take(N)  # six chunks


def column(records: list[dict], name: str) -> list:
    return [r[name] for r in records]


def mean(records: list[dict], name: str) -> float:
    return statistics.fmean(v for v in column(records, name) if v is not None)


@pytest.fixture(scope="module")
def normal() -> tuple[list[dict], list[float]]:
    return rows("normal", seed=99)


def test_every_generator_scenario_is_a_data_profile() -> None:
    assert tuple(SCENARIOS) == DATA_PROFILES
    assert len(DATA_PROFILES) == 7


def test_normal_rows_are_valid_requests_with_labels_from_the_true_function(normal) -> None:
    records, labels = rows("normal")
    assert all(set(r) == set(FEATURE_NAMES) for r in records)
    features = {name: np.array(column(records, name), dtype=float) for name in FEATURE_NAMES}
    residual = np.array(labels) - true_minutes(features)
    # Only the generator's noise (sd 3 min) separates each label from its own row's true minutes: a label
    # shifted onto another row would leave residuals several times larger.
    assert abs(residual.mean()) < 0.3 and 2.5 < residual.std() < 3.5
    assert abs(mean(records, "distance_km") - mean(normal[0], "distance_km")) < 0.3


def test_covariate_shift_makes_routes_about_1_8x_longer(normal) -> None:
    records, _ = rows("covariate-shift")
    ratio = mean(records, "distance_km") / mean(normal[0], "distance_km")
    assert 1.6 < ratio < 2.0
    assert abs(mean(records, "traffic_index") - mean(normal[0], "traffic_index")) < 0.3


def test_rain_raises_traffic_and_delivery_times(normal) -> None:
    records, labels = rows("rain")
    assert mean(records, "traffic_index") - mean(normal[0], "traffic_index") > 2.0
    assert max(column(records, "traffic_index")) <= 10.0  # still a valid index
    assert statistics.fmean(labels) - statistics.fmean(normal[1]) > 3.0


@pytest.mark.parametrize(("scenario", "value"), [("feed-broken-zero", 0.0), ("feed-broken-null", None)])
def test_broken_feed_sends_zero_or_null_traffic_but_labels_stay_real(normal, scenario: str, value) -> None:
    records, labels = rows(scenario)
    assert set(column(records, "traffic_index")) == {value}
    # The roads were as busy as ever: ground truth does not care that the feed broke.
    assert abs(statistics.fmean(labels) - statistics.fmean(normal[1])) < 0.6


def test_unit_error_sends_metres_in_the_km_field_with_real_world_labels(normal) -> None:
    records, labels = rows("unit-error")
    ratio = statistics.median(column(records, "distance_km")) / statistics.median(column(normal[0], "distance_km"))
    assert 800 < ratio < 1250
    features = {name: np.array(column(records, name), dtype=float) for name in FEATURE_NAMES}
    features["distance_km"] = features["distance_km"] / 1000.0
    residual = np.array(labels) - true_minutes(features)
    assert abs(residual.mean()) < 0.3 and residual.std() < 3.5  # labels follow the true kilometres


def test_concept_drift_keeps_inputs_but_changes_the_outcome(normal) -> None:
    records, labels = rows("concept-drift")
    for name in FEATURE_NAMES:
        a, b = mean(records, name), mean(normal[0], name)
        assert abs(a - b) <= 0.1 * abs(b) + 0.05, name
    assert statistics.fmean(labels) - statistics.fmean(normal[1]) > 9.0  # +6 min and traffic costs double


def test_users_get_different_rows_and_a_seed_replays_them() -> None:
    a, _ = RowSource("normal", seed=5, stream=0, chunk_size=50).take(120)
    b, _ = RowSource("normal", seed=5, stream=1, chunk_size=50).take(120)
    again, _ = RowSource("normal", seed=5, stream=0, chunk_size=50).take(120)
    assert a == again
    assert a != b
    assert a[:50] != a[50:100]  # every chunk is new data, not the first chunk again


def test_unknown_data_profile_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="covariate-shift"):
        RowSource("sunny", seed=1, stream=0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_feedback_is_due_only_after_the_delay_in_order() -> None:
    clock = Clock()
    q = FeedbackQueue(delay=5.0, ratio=1.0, clock=clock)
    q.add("a", 10.0)
    clock.now += 2
    q.add("b", 20.0)
    assert q.due(10) == []
    clock.now += 3
    assert [(f.prediction_id, f.actual) for f in q.due(10)] == [("a", 10.0)]
    clock.now += 2
    assert [f.prediction_id for f in q.due(10)] == ["b"]
    assert len(q) == 0


def test_feedback_ratio_limit_and_bound() -> None:
    clock = Clock()
    none = FeedbackQueue(delay=0, ratio=0.0, clock=clock)
    some = FeedbackQueue(delay=0, ratio=0.5, seed=1, clock=clock)
    bounded = FeedbackQueue(delay=0, ratio=1.0, max_pending=3, clock=clock)
    for i in range(1000):
        none.add(str(i), 1.0)
        some.add(str(i), 1.0)
        bounded.add(str(i), 1.0)
    assert len(none) == 0
    assert 400 < len(some) < 600
    assert [f.prediction_id for f in bounded.due(2)] == ["997", "998"]  # oldest dropped, at most `limit`
    assert bounded.dropped == 997
