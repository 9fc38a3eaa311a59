"""Write generator traffic into a real prediction log, predicted by the real serving path of a version.

The rows go through ``PredictionLog`` (the service's own writer) with predictions from ``ServingModel``
(the service's own predictor), so the monitor reads exactly what a running service would have logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from model_service.features import FEATURE_NAMES, TARGET
from model_service.generator import generate, records
from model_service.prediction_log import PredictionLog
from model_service.predictor import ServingModel
from model_service.registry import Registry


def log_traffic(log_path: Path, models_dir: Path, version: str, rows: int, seed: int,
                scenario: str = "normal", feedback_every: int = 2, end_ts: float | None = None,
                spacing_s: float = 0.05, prefix: str = "",
                transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> None:
    """Log ``rows`` predictions served by ``version`` ending at ``end_ts`` (now), every ``feedback_every``-th
    one with its true delivery time as feedback (0 = no feedback)."""
    frame = generate(rows, seed, scenario)
    if transform is not None:
        frame = transform(frame)
    model = ServingModel.from_loaded(Registry(models_dir).load(version))
    feature_rows = [[rec[name] for name in FEATURE_NAMES] for rec in records(frame)]
    predictions = model.predict_rows(feature_rows)
    end_ts = time.time() if end_ts is None else end_ts
    start_ts = end_ts - rows * spacing_s
    log = PredictionLog(log_path)
    log.start()
    try:
        ids = [f"{prefix}{version}-{seed}-{scenario}-{i}" for i in range(rows)]
        log.append_predictions([(pid, start_ts + i * spacing_s, version, *row, pred, 1.0, None)
                                for i, (pid, row, pred) in enumerate(zip(ids, feature_rows, predictions,
                                                                         strict=True))])
        if feedback_every:
            actual = frame[TARGET].to_numpy()
            for i in range(0, rows, feedback_every):
                log.append_feedback((ids[i], end_ts, float(actual[i]), version, predictions[i]))
    finally:
        log.close()


def empty_log(log_path: Path) -> None:
    """A prediction log with the schema and no rows (a service that started but served nothing)."""
    log = PredictionLog(log_path)
    log.start()
    log.close()
