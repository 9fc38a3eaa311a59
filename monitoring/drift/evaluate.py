"""One Evidently report per run: drift per feature and for predictions, data quality, regression quality.

Evidently is imported here, lazily, and nowhere else: it takes seconds to import, and neither the
monitor's start-up nor ``aiops-lab --help`` should pay that.

Every column verdict is Evidently's own (its test results), with the method and threshold from
``drift.yml`` set on every column; the dataset verdict applies Evidently's rule to them. A feature is
tested only when the window holds at least ``min_rows`` non-null values of it; an all-null feature (a
broken feed) is reported through its missing share, not as a drift score.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from model_service.features import FEATURE_NAMES, FEATURES_BY_NAME
from monitoring.drift.config import DriftConfig, column_kind
from monitoring.drift.reference import Reference
from monitoring.drift.summary import DatasetDrift, FeatureResult, PredictionDrift, Quality
from monitoring.drift.window import ACTUAL, PREDICTION

SECONDS_PER_MINUTE = 60.0


@dataclass
class Evaluation:
    dataset: DatasetDrift
    prediction: PredictionDrift
    features: list[FeatureResult]
    quality: Quality
    snapshot: Any  # evidently Snapshot: save_html / dict


def load_evidently() -> None:
    """Import Evidently now (seconds); callers use this to show progress or to warm up in the background."""
    import evidently
    import evidently.metrics  # noqa: F401


def evaluate(current: pd.DataFrame, reference: Reference, config: DriftConfig, min_rows: int,
             min_feedback_rows: int) -> Evaluation:
    """Run the report on ``current`` (features, PREDICTION, ACTUAL) against ``reference``."""
    from evidently import DataDefinition, Dataset, Regression, Report
    from evidently.metrics import (
        MAE,
        RMSE,
        InListValueCount,
        MeanError,
        MissingValueCount,
        OutRangeValueCount,
        ValueDrift,
    )

    rows = len(current)
    features = {name: _feature_stub(name, current[name], config, min_rows) for name in FEATURE_NAMES}
    tested = [name for name, f in features.items() if f.note == ""]
    labelled = int(current[ACTUAL].notna().sum())
    with_quality = labelled >= min_feedback_rows

    metrics: list[Any] = [ValueDrift(column=n, method=config.features[n].method,
                                     threshold=config.features[n].threshold) for n in tested]
    metrics.append(ValueDrift(column=PREDICTION, method=config.prediction.method,
                              threshold=config.prediction.threshold))
    for name in FEATURE_NAMES:
        metrics.append(MissingValueCount(column=name, tests=[]))
        if current[name].notna().any():
            rng = reference.ranges[name]
            metrics.append(OutRangeValueCount(column=name, left=rng.min, right=rng.max, tests=[]))
            metrics.append(InListValueCount(column=name, values=[0], tests=[]))
    if with_quality:  # without their error plots: they would double the run time for little insight
        metrics += [MAE(mean_tests=[], std_tests=[], error_distr=False), RMSE(tests=[], error_distr=False),
                    MeanError(mean_tests=[], std_tests=[], error_plot=False)]

    columns = [*FEATURE_NAMES, PREDICTION] + ([ACTUAL] if with_quality else [])
    definition = DataDefinition(
        numerical_columns=[n for n in columns if n in (PREDICTION, ACTUAL)
                           or column_kind(FEATURES_BY_NAME[n]) == "numerical"],
        categorical_columns=[n for n in FEATURE_NAMES if column_kind(FEATURES_BY_NAME[n]) == "categorical"],
        regression=[Regression(target=ACTUAL, prediction=PREDICTION)] if with_quality else None,
    )
    with warnings.catch_warnings():
        # sklearn warns about R² on tiny internal slices of the regression widgets; it is not our metric.
        warnings.simplefilter("ignore")
        snapshot = Report(metrics, include_tests=True).run(
            Dataset.from_pandas(current[columns].reset_index(drop=True), data_definition=definition),
            Dataset.from_pandas(reference.frame[columns], data_definition=definition))
    results = _Results(snapshot.dict())

    for name in tested:
        score, drifted = results.drift(name)
        features[name].score, features[name].drifted = score, drifted
    for name, feature in features.items():
        missing = results.count("MissingValueCount", name)
        feature.missing_share = missing / rows
        present = current[name].notna().any()
        feature.out_of_range_share = results.count("OutRangeValueCount", name) / rows if present else 0.0
        feature.zero_share = results.count("InListValueCount", name) / rows if present else 0.0
        feature.constant = bool(current[name].nunique(dropna=True) == 1)

    pred_score, pred_drifted = results.drift(PREDICTION)
    # Evidently's dataset rule (DriftedColumnsCount): drifted when the share of drifted columns >= drift_share.
    # Applied here to the verdicts above rather than by adding that metric, which re-runs every column's
    # test (about a quarter of the run time) to produce the same number.
    share = sum(bool(features[n].drifted) for n in tested) / len(tested) if tested else None
    dataset_drifted = None if share is None else share >= config.dataset_drift_share
    quality = Quality(rows=labelled, training_mae_seconds=reference.holdout_mae_minutes * SECONDS_PER_MINUTE)
    if with_quality:
        quality.mae_seconds = results.mean("MAE") * SECONDS_PER_MINUTE
        quality.rmse_seconds = results.single("RMSE") * SECONDS_PER_MINUTE
        quality.mean_error_seconds = results.mean("MeanError") * SECONDS_PER_MINUTE
    return Evaluation(
        dataset=DatasetDrift(share=share, drifted=dataset_drifted, threshold=config.dataset_drift_share,
                             tested_features=len(tested)),
        prediction=PredictionDrift(method=config.prediction.method, threshold=config.prediction.threshold,
                                   score=pred_score, drifted=pred_drifted),
        features=list(features.values()),
        quality=quality,
        snapshot=snapshot,
    )


def _feature_stub(name: str, values: pd.Series, config: DriftConfig, min_rows: int) -> FeatureResult:
    test = config.features[name]
    present = int(values.notna().sum())
    note = ""
    if present == 0:
        note = "entirely missing in the window: see missing share"
    elif present < min_rows:
        note = f"only {present} non-null values (need {min_rows} for a drift verdict)"
    return FeatureResult(name=name, method=test.method, threshold=test.threshold, note=note)


class _Results:
    """Look results up in ``snapshot.dict()`` by metric type and column, verdicts by metric id."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._by_key: dict[tuple[str, str | None], dict[str, Any]] = {}
        for metric in data["metrics"]:
            kind = metric["config"]["type"].rsplit(":", 1)[-1]
            self._by_key[(kind, metric["config"].get("column"))] = metric
        self._status = {t["metric_config"]["metric_id"]: t["status"] for t in data.get("tests", [])}

    def _get(self, kind: str, column: str | None = None) -> dict[str, Any]:
        try:
            return self._by_key[(kind, column)]
        except KeyError:
            raise RuntimeError(f"Evidently returned no {kind} result for {column or 'the dataset'}") from None

    def _verdict(self, metric: dict[str, Any]) -> bool:
        status = self._status.get(metric["id"])
        if status is None:
            raise RuntimeError(f"Evidently returned no test verdict for {metric['metric_name']}")
        return str(status).rsplit(".", 1)[-1].upper() == "FAIL"

    def drift(self, column: str) -> tuple[float, bool]:
        metric = self._get("ValueDrift", column)
        return float(metric["value"]), self._verdict(metric)

    def count(self, kind: str, column: str) -> float:
        return float(self._get(kind, column)["value"]["count"])

    def mean(self, kind: str) -> float:
        return float(self._get(kind)["value"]["mean"])

    def single(self, kind: str) -> float:
        return float(self._get(kind)["value"])
