"""Bulk histograms: a batch observed as a list or as a numpy array lands in exactly the same buckets."""

from __future__ import annotations

import random

import numpy as np
import pytest

from model_service import metrics


def _fresh(bounds: tuple[float, ...]) -> metrics.BulkHistogram:
    return metrics.BulkHistogram("aiops_test_values", "test", bounds)


def _buckets(hist: metrics.BulkHistogram) -> dict[str, float]:
    [family] = hist.collect()
    return {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}


def test_array_and_list_observations_agree_bucket_for_bucket() -> None:
    rnd = random.Random(7)
    bounds = metrics.FEATURE_VALUES["distance_km"].bounds
    values = [rnd.uniform(0, 60) for _ in range(500)] + [float(b) for b in bounds]  # every boundary exactly
    as_list, as_array = _fresh(tuple(bounds)), _fresh(tuple(bounds))
    as_list.observe_many(values)
    as_array.observe_array(np.array(values))
    assert as_array._counts == as_list._counts
    assert as_array._sum == pytest.approx(as_list._sum)


def test_a_value_on_a_boundary_counts_in_that_bucket() -> None:
    hist = _fresh((1.0, 2.0))
    hist.observe_array(np.array([1.0, 2.0, 2.5]))
    assert _buckets(hist) == {"1.0": 1, "2.0": 2, "+Inf": 3}


def _served(max_rows: int = 1000) -> tuple[metrics.ServedValues, metrics.BulkHistogram, list[metrics.BulkHistogram]]:
    predicted = _fresh((10.0, 20.0, 30.0))
    features = [_fresh((1.0, 5.0)), _fresh((0.5,))]
    return metrics.ServedValues(predicted, features, [False, True], max_rows=max_rows), predicted, features


def test_served_values_handed_over_are_in_the_next_scrape_of_any_of_their_histograms() -> None:
    """A request only hands its arrays over; a collect must still see every one (issue 18's deferral)."""
    served, predicted, (first, nullable) = _served()
    served.add(np.array([[1.0, np.nan], [6.0, 0.2]]), np.array([0.1, 0.4]))  # minutes: 6 s and 24 s
    served.add(np.array([[5.0, 0.7]]), np.array([1.0]))  # 60 s
    assert first._counts == [0, 0, 0]  # nothing bucketed yet: that is the saving
    assert _buckets(nullable) == {"0.5": 1, "+Inf": 2}  # the NaN (a null) is not observed
    assert _buckets(first) == {"1.0": 1, "5.0": 2, "+Inf": 3}
    assert _buckets(predicted) == {"10.0": 1, "20.0": 1, "30.0": 2, "+Inf": 3}
    assert predicted._sum == pytest.approx(90.0)
    assert _buckets(first) == {"1.0": 1, "5.0": 2, "+Inf": 3}  # a second scrape adds nothing twice


def test_served_values_are_bucketed_without_a_scrape_once_max_rows_wait() -> None:
    served, predicted, (first, _) = _served(max_rows=3)
    served.add(np.array([[1.0, 0.1], [2.0, 0.1]]), np.array([0.1, 0.2]))
    assert sum(first._counts) == 0
    served.add(np.array([[3.0, 0.1]]), np.array([0.3]))
    assert sum(first._counts) == 3 and sum(predicted._counts) == 3  # bounded memory when nobody scrapes


def test_deferred_and_direct_observation_agree_bucket_for_bucket() -> None:
    rnd = np.random.default_rng(3)
    served, predicted, (first, nullable) = _served(max_rows=10**9)
    direct_pred, direct_first, direct_null = _fresh((10.0, 20.0, 30.0)), _fresh((1.0, 5.0)), _fresh((0.5,))
    for _ in range(40):
        matrix = rnd.uniform(0, 8, size=(int(rnd.integers(1, 60)), 2))
        matrix[rnd.random(len(matrix)) < 0.2, 1] = np.nan
        preds = rnd.uniform(0, 1, size=len(matrix))
        served.add(matrix, preds)
        direct_pred.observe_array(preds * 60.0)
        direct_first.observe_array(matrix[:, 0])
        direct_null.observe_array(matrix[:, 1][~np.isnan(matrix[:, 1])])
    for deferred, direct in ((predicted, direct_pred), (first, direct_first), (nullable, direct_null)):
        assert _buckets(deferred) == _buckets(direct)
        assert deferred._sum == pytest.approx(direct._sum)
