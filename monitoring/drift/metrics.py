"""Every Prometheus metric the drift monitor exports, defined once (the service's live in
``model_service/metrics.py``). Rules, dashboards and runbooks are checked against both modules.

Evidently has no supported Prometheus exporter, so the lab owns this one. Each gauge holds the value of the
*last completed run*; ``aiops_drift_last_success_timestamp_seconds`` says how fresh that is.
Quality metrics are in seconds (base units), like the service's absolute-error histogram.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from model_service.features import FEATURE_NAMES

REGISTRY = CollectorRegistry(auto_describe=True)
RUN_OUTCOMES = ("success", "insufficient_data", "failure")


def _gauge(name: str, documentation: str, *labels: str) -> Gauge:
    return Gauge(name, documentation, labels, registry=REGISTRY)


DATASET_DRIFT_SHARE = _gauge("aiops_drift_dataset_drift_share", "Share (0-1) of features whose drift test fired in the "
                             "last run.")
DATASET_DRIFTED = _gauge("aiops_drift_dataset_drifted", "1 when the dataset-drift verdict fired (share >= threshold) "
                         "in the last run.")
FEATURE_SCORE = _gauge("aiops_drift_feature_score", "Drift score of each feature (meaning depends on "
                       "aiops_drift_feature_method_info).", "feature")
FEATURE_DRIFTED = _gauge("aiops_drift_feature_drifted", "1 when the feature's drift test fired.", "feature")
FEATURE_METHOD = _gauge("aiops_drift_feature_method_info", "Drift method and threshold used per feature (value 1).",
                        "feature", "method", "threshold")
FEATURE_MISSING_SHARE = _gauge("aiops_drift_feature_missing_share", "Share (0-1) of rows in the window where the "
                               "feature was null.", "feature")
FEATURE_ZERO_SHARE = _gauge("aiops_drift_feature_zero_share", "Share (0-1) of rows where the feature was 0.", "feature")
FEATURE_OUT_OF_RANGE_SHARE = _gauge("aiops_drift_feature_out_of_range_share", "Share (0-1) of rows outside the "
                                    "reference (training) range.", "feature")
FEATURE_CONSTANT = _gauge("aiops_drift_feature_constant", "1 when the feature is constant in the window.", "feature")
PREDICTION_SCORE = _gauge("aiops_drift_prediction_score", "Drift score of the model's predictions.")
PREDICTION_DRIFTED = _gauge("aiops_drift_prediction_drifted", "1 when the prediction drift test fired.")
QUALITY_MAE = _gauge("aiops_quality_mae_seconds", "MAE of predictions that received feedback, in the window.")
QUALITY_RMSE = _gauge("aiops_quality_rmse_seconds", "RMSE of predictions that received feedback.")
QUALITY_MEAN_ERROR = _gauge("aiops_quality_mean_error_seconds", "Mean signed error (predicted - actual) of "
                            "predictions with feedback.")
QUALITY_ROWS = _gauge("aiops_quality_rows", "Rows with feedback used for the quality metrics.")
ROWS_EVALUATED = _gauge("aiops_drift_rows_evaluated", "Rows compared in the last run.", "dataset")
INSUFFICIENT_DATA = _gauge("aiops_drift_insufficient_data", "1 when the last run had too few rows to judge (no "
                           "verdict, no alarm).")
LAST_SUCCESS = _gauge("aiops_drift_last_success_timestamp_seconds", "Unix time of the last successful run.")
RUN_DURATION = _gauge("aiops_drift_run_duration_seconds", "Wall time of the last run.")
RUNS = Counter("aiops_drift_runs_total", "Monitoring runs by outcome.", ["outcome"], registry=REGISTRY)


def preinitialise() -> None:
    """Create every labelled child so series exist (as 0) before the first run."""
    for outcome in RUN_OUTCOMES:
        RUNS.labels(outcome)
    for name in FEATURE_NAMES:
        for gauge in (FEATURE_SCORE, FEATURE_DRIFTED, FEATURE_MISSING_SHARE, FEATURE_ZERO_SHARE,
                      FEATURE_OUT_OF_RANGE_SHARE, FEATURE_CONSTANT):
            gauge.labels(name)
    for dataset in ("current", "reference"):
        ROWS_EVALUATED.labels(dataset)


def all_metric_names() -> set[str]:
    preinitialise()
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(s.name for s in family.samples)
    return names
