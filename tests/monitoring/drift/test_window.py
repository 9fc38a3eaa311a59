"""The window as the monitor reads it: floats everywhere, NULL and anything that is not a number as NaN."""

from __future__ import annotations

import math
import time
from pathlib import Path

from model_service.features import FEATURE_NAMES
from model_service.prediction_log import PredictionLog, connect
from monitoring.drift.window import ACTUAL, PREDICTION, read_window


def _log(path: Path, rows: list[tuple]) -> None:
    log = PredictionLog(path, flush_ms=10)
    log.start()
    log.append_predictions(rows)
    log.close()


def test_values_are_floats_and_nulls_are_nan(tmp_path: Path) -> None:
    now = time.time()
    _log(tmp_path / "p.db", [("a", now, "v1", 3.5, 2, 1, None, 12.0, 20.0, 1.0, None),
                             ("b", now + 1, "v1", 4.0, 3, 0, 5.5, 24.0, 30.0, 1.0, None)])
    frame = read_window(tmp_path / "p.db", "v1", now + 2, 0, 0).frame
    assert list(frame.columns) == [*FEATURE_NAMES, PREDICTION, ACTUAL]
    assert all(str(t) == "float64" for t in frame.dtypes)
    assert frame["items_count"].tolist() == [3.0, 2.0]  # newest first
    assert math.isnan(frame["traffic_index"].iloc[1]) and all(math.isnan(v) for v in frame[ACTUAL])


def test_a_value_that_is_not_a_number_reads_as_nan_instead_of_failing_the_run(tmp_path: Path) -> None:
    """A log edited by hand (text where a number belongs) must not break the monitor."""
    now = time.time()
    _log(tmp_path / "p.db", [("a", now, "v1", 3.5, 2, 1, 4.0, 12.0, 20.0, 1.0, None)])
    conn = connect(tmp_path / "p.db")
    with conn:
        conn.execute("UPDATE prediction_batches SET rows = json_set(rows, '$[0][0][0]', 'far') WHERE id_prefix = 'a'")
    conn.close()
    frame = read_window(tmp_path / "p.db", "v1", now + 1, 0, 0).frame
    assert math.isnan(frame["distance_km"].iloc[0]) and frame["items_count"].iloc[0] == 2.0
    assert str(frame["distance_km"].dtype) == "float64"


def test_an_empty_window_still_has_float_columns(tmp_path: Path) -> None:
    _log(tmp_path / "p.db", [])
    frame = read_window(tmp_path / "p.db", "v1", time.time(), 0, 0).frame
    assert len(frame) == 0 and all(str(t) == "float64" for t in frame.dtypes)
