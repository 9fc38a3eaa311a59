"""Bulk histograms: a batch observed as a list or as a numpy array lands in exactly the same buckets."""

from __future__ import annotations

import random

import numpy as np
import pytest

from model_service import metrics


def _fresh(bounds: tuple[float, ...]) -> metrics.BulkHistogram:
    return metrics.BulkHistogram("aiops_test_values", "test", bounds)


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
    [family] = hist.collect()
    buckets = {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}
    assert buckets == {"1.0": 1, "2.0": 2, "+Inf": 3}
