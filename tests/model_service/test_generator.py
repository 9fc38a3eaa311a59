"""The data generator: deterministic per seed, and each scenario shifts exactly what its name says.

Every scenario is compared with ``normal`` under the same seed: the generator draws the same random numbers
in the same order, so a row-by-row comparison isolates the scenario's effect from sampling noise.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from model_service import generator
from model_service.features import FEATURE_NAMES, FEATURES_BY_NAME, TARGET

ROWS = 4000
SEED = 11


@pytest.fixture(scope="module")
def normal() -> pd.DataFrame:
    return generator.generate(ROWS, SEED, "normal")


def test_same_seed_gives_identical_frame(normal: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(normal, generator.generate(ROWS, SEED, "normal"))


def test_different_seed_gives_different_frame(normal: pd.DataFrame) -> None:
    other = generator.generate(ROWS, SEED + 1, "normal")
    for column in (*FEATURE_NAMES, TARGET):
        assert not np.array_equal(normal[column].to_numpy(), other[column].to_numpy()), column


def test_normal_data_lies_inside_the_physical_bounds(normal: pd.DataFrame) -> None:
    assert list(normal.columns) == [*FEATURE_NAMES, TARGET]
    for name in FEATURE_NAMES:
        spec = FEATURES_BY_NAME[name]
        assert normal[name].between(spec.minimum, spec.maximum).all(), name
    assert normal[TARGET].min() >= 1.0


def test_covariate_shift_scales_distance_only(normal: pd.DataFrame) -> None:
    shifted = generator.generate(ROWS, SEED, "covariate-shift")
    ratio = shifted["distance_km"] / normal["distance_km"]
    unclipped = shifted["distance_km"] < 60.0
    assert np.allclose(ratio[unclipped], generator.SCENARIOS["covariate-shift"].distance_scale)
    _assert_same(shifted, normal, [n for n in FEATURE_NAMES if n != "distance_km"])


def test_rain_raises_traffic_by_its_shift(normal: pd.DataFrame) -> None:
    rain = generator.generate(ROWS, SEED, "rain")
    shift = generator.SCENARIOS["rain"].traffic_shift
    expected = np.clip(normal["traffic_index"] + shift, 0.0, 10.0)
    assert np.allclose(rain["traffic_index"], expected)
    assert rain["traffic_index"].mean() - normal["traffic_index"].mean() > shift * 0.6
    # Labels follow the real (rainy) traffic: the world got slower, not just the inputs.
    assert rain[TARGET].mean() > normal[TARGET].mean() + 2.0
    _assert_same(rain, normal, [n for n in FEATURE_NAMES if n != "traffic_index"])


@pytest.mark.parametrize(("name", "check"), [
    ("feed-broken-zero", lambda s: (s == 0.0).all()),
    ("feed-broken-null", lambda s: s.isna().all()),
])
def test_broken_feed_corrupts_traffic_but_not_the_labels(normal: pd.DataFrame, name: str, check) -> None:
    broken = generator.generate(ROWS, SEED, name)
    assert check(broken["traffic_index"])
    # The real traffic still happened: labels are those of the intact world (training-serving skew).
    assert np.array_equal(broken[TARGET], normal[TARGET])
    _assert_same(broken, normal, [n for n in FEATURE_NAMES if n != "traffic_index"])


def test_unit_error_sends_metres_with_unchanged_labels(normal: pd.DataFrame) -> None:
    bad = generator.generate(ROWS, SEED, "unit-error")
    assert np.allclose(bad["distance_km"], normal["distance_km"] * 1000.0)
    assert np.array_equal(bad[TARGET], normal[TARGET])


def test_concept_drift_changes_labels_but_not_inputs(normal: pd.DataFrame) -> None:
    drift = generator.generate(ROWS, SEED, "concept-drift")
    sc = generator.SCENARIOS["concept-drift"]
    _assert_same(drift, normal, list(FEATURE_NAMES))
    extra_traffic = sc.concept["traffic_index"] - generator.TRUE_COEFFICIENTS["traffic_index"]
    expected = sc.concept_intercept_shift + extra_traffic * normal["traffic_index"]
    unclipped = normal[TARGET] > 1.0  # labels are floored at 1 minute
    assert np.allclose((drift[TARGET] - normal[TARGET])[unclipped], expected[unclipped])


def test_records_are_json_ready(normal: pd.DataFrame) -> None:
    nulls = generator.records(generator.generate(5, SEED, "feed-broken-null"))
    assert all(r["traffic_index"] is None for r in nulls)
    rows = generator.records(normal.head(50))
    assert all(list(r) == list(FEATURE_NAMES) for r in rows)
    assert all(type(r["items_count"]) is int and type(r["is_peak_hour"]) is int for r in rows)
    assert all(type(r["distance_km"]) is float for r in rows)


def test_unknown_scenario_lists_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="covariate-shift"):
        generator.generate(10, 1, "hurricane")


def test_negative_row_count_is_refused() -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        generator.generate(-1, 1)


def _assert_same(a: pd.DataFrame, b: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        assert np.array_equal(a[column].to_numpy(), b[column].to_numpy()), column


@pytest.mark.parametrize("name", sorted(generator.SCENARIOS))
def test_columns_are_the_frame_without_pandas(name: str) -> None:
    """The drills' traffic process draws with ``columns`` (no pandas import): the same numbers, the same
    records and labels as ``generate``'s frame, in every scenario (NaN where the feed is broken)."""
    data, frame = generator.columns(300, SEED, name), generator.generate(300, SEED, name)
    assert list(data) == list(frame.columns)
    for column in frame.columns:
        np.testing.assert_array_equal(data[column], frame[column].to_numpy())
    assert generator.records(data) == generator.records(frame)


def test_the_drills_traffic_process_does_not_import_pandas() -> None:
    code = "import sys, labs.drills.traffic\nassert 'pandas' not in sys.modules, 'pandas was imported'\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
