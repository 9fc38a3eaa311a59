"""Run summaries -> the Prometheus gauges of ``monitoring/drift/metrics.py`` (names defined there only).

Each gauge holds the last run's value. "No verdict" (too few rows, a feature entirely missing, no
feedback) is exported as NaN: the series stays present for dashboards, and no alert threshold matches
NaN, so missing data never pages anyone -- ``aiops_drift_insufficient_data`` says why instead. A failed
run only counts the failure; the gauges keep the last good values and ``last_success`` ages, which is
what a staleness alert watches.
"""

from __future__ import annotations

import math

from model_service.features import FEATURE_NAMES
from monitoring.drift import metrics as m
from monitoring.drift.config import DriftConfig
from monitoring.drift.summary import RunSummary

NAN = math.nan


def _value(x: float | bool | None) -> float:
    if x is None:
        return NAN
    return float(x)


def publish_config(config: DriftConfig) -> None:
    """aiops_drift_feature_method_info: one series per feature with its method and threshold."""
    m.preinitialise()
    m.FEATURE_METHOD.clear()
    for name, test in config.features.items():
        m.FEATURE_METHOD.labels(name, test.method, f"{test.threshold:g}").set(1)


def publish(summary: RunSummary) -> None:
    """Set every gauge from a completed run (success or insufficient data) and count its outcome."""
    m.RUNS.labels(summary.outcome).inc()
    m.RUN_DURATION.set(summary.duration_seconds)
    if summary.outcome == "failure":
        return
    m.LAST_SUCCESS.set(summary.started_at + summary.duration_seconds)
    m.INSUFFICIENT_DATA.set(1 if summary.outcome == "insufficient_data" else 0)
    m.ROWS_EVALUATED.labels("current").set(summary.window.rows)
    m.ROWS_EVALUATED.labels("reference").set(summary.reference_rows)

    dataset = summary.dataset
    m.DATASET_DRIFT_SHARE.set(_value(dataset.share if dataset else None))
    m.DATASET_DRIFTED.set(_value(dataset.drifted if dataset else None))
    prediction = summary.prediction
    m.PREDICTION_SCORE.set(_value(prediction.score if prediction else None))
    m.PREDICTION_DRIFTED.set(_value(prediction.drifted if prediction else None))

    by_name = {f.name: f for f in summary.features}
    for name in FEATURE_NAMES:
        f = by_name.get(name)
        m.FEATURE_SCORE.labels(name).set(_value(f.score if f else None))
        m.FEATURE_DRIFTED.labels(name).set(_value(f.drifted if f else None))
        m.FEATURE_MISSING_SHARE.labels(name).set(_value(f.missing_share if f else None))
        m.FEATURE_ZERO_SHARE.labels(name).set(_value(f.zero_share if f else None))
        m.FEATURE_OUT_OF_RANGE_SHARE.labels(name).set(_value(f.out_of_range_share if f else None))
        m.FEATURE_CONSTANT.labels(name).set(_value(f.constant if f else None))

    quality = summary.quality
    m.QUALITY_ROWS.set(quality.rows if quality else 0)
    m.QUALITY_MAE.set(_value(quality.mae_seconds if quality else None))
    m.QUALITY_RMSE.set(_value(quality.rmse_seconds if quality else None))
    m.QUALITY_MEAN_ERROR.set(_value(quality.mean_error_seconds if quality else None))


def restore_last_success(newest: RunSummary | None) -> None:
    """Start a new process from the newest kept report's end time instead of 0 (issue 14, item 9d).

    Without it, a restarted monitor exported 0 ("never succeeded", decades ago) until its first run, so
    ``time() - aiops_drift_last_success_timestamp_seconds`` jumped to ~56 years on every restart and the
    stale ticket's description lied. The verdict gauges stay NaN (``publish_no_verdict``): an old verdict is
    not re-asserted, only when the last success was. A run that completed without a verdict writes no
    report, so the restored time can be older than the true last success, never newer.
    """
    if newest is not None and newest.outcome != "failure":
        m.LAST_SUCCESS.set(newest.started_at + newest.duration_seconds)


def publish_no_verdict() -> None:
    """Before the first run every verdict is unknown (NaN), not "no drift" (0)."""
    m.preinitialise()
    for gauge in (m.DATASET_DRIFT_SHARE, m.DATASET_DRIFTED, m.PREDICTION_SCORE, m.PREDICTION_DRIFTED,
                  m.QUALITY_MAE, m.QUALITY_RMSE, m.QUALITY_MEAN_ERROR):
        gauge.set(NAN)
    for gauge in (m.FEATURE_SCORE, m.FEATURE_DRIFTED, m.FEATURE_MISSING_SHARE, m.FEATURE_ZERO_SHARE,
                  m.FEATURE_OUT_OF_RANGE_SHARE, m.FEATURE_CONSTANT):
        for name in FEATURE_NAMES:
            gauge.labels(name).set(NAN)
