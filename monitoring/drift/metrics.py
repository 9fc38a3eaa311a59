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

DATASET_DRIFT_SHARE = Gauge("aiops_drift_dataset_drift_share",
                            "Share (0-1) of features whose drift test fired in the last run.", registry=REGISTRY)
DATASET_DRIFTED = Gauge("aiops_drift_dataset_drifted",
                        "1 when the dataset-drift verdict fired (share >= threshold) in the last run.",
                        registry=REGISTRY)
FEATURE_SCORE = Gauge("aiops_drift_feature_score",
                      "Drift score of each feature (meaning depends on aiops_drift_feature_method_info).",
                      ["feature"], registry=REGISTRY)
FEATURE_DRIFTED = Gauge("aiops_drift_feature_drifted", "1 when the feature's drift test fired.",
                        ["feature"], registry=REGISTRY)
FEATURE_METHOD = Gauge("aiops_drift_feature_method_info", "Drift method and threshold used per feature (value 1).",
                       ["feature", "method", "threshold"], registry=REGISTRY)
FEATURE_MISSING_SHARE = Gauge("aiops_drift_feature_missing_share",
                              "Share (0-1) of rows in the window where the feature was null.",
                              ["feature"], registry=REGISTRY)
FEATURE_ZERO_SHARE = Gauge("aiops_drift_feature_zero_share", "Share (0-1) of rows where the feature was 0.",
                           ["feature"], registry=REGISTRY)
FEATURE_OUT_OF_RANGE_SHARE = Gauge("aiops_drift_feature_out_of_range_share",
                                   "Share (0-1) of rows outside the reference (training) range.",
                                   ["feature"], registry=REGISTRY)
FEATURE_CONSTANT = Gauge("aiops_drift_feature_constant", "1 when the feature is constant in the window.",
                         ["feature"], registry=REGISTRY)
PREDICTION_SCORE = Gauge("aiops_drift_prediction_score", "Drift score of the model's predictions.",
                         registry=REGISTRY)
PREDICTION_DRIFTED = Gauge("aiops_drift_prediction_drifted", "1 when the prediction drift test fired.",
                           registry=REGISTRY)
QUALITY_MAE = Gauge("aiops_quality_mae_seconds", "MAE of predictions that received feedback, in the window.",
                    registry=REGISTRY)
QUALITY_RMSE = Gauge("aiops_quality_rmse_seconds", "RMSE of predictions that received feedback.",
                     registry=REGISTRY)
QUALITY_MEAN_ERROR = Gauge("aiops_quality_mean_error_seconds",
                           "Mean signed error (predicted - actual) of predictions with feedback.", registry=REGISTRY)
QUALITY_ROWS = Gauge("aiops_quality_rows", "Rows with feedback used for the quality metrics.", registry=REGISTRY)
ROWS_EVALUATED = Gauge("aiops_drift_rows_evaluated", "Rows compared in the last run.", ["dataset"],
                       registry=REGISTRY)
INSUFFICIENT_DATA = Gauge("aiops_drift_insufficient_data",
                          "1 when the last run had too few rows to judge (no verdict, no alarm).", registry=REGISTRY)
LAST_SUCCESS = Gauge("aiops_drift_last_success_timestamp_seconds", "Unix time of the last successful run.",
                     registry=REGISTRY)
RUN_DURATION = Gauge("aiops_drift_run_duration_seconds", "Wall time of the last run.", registry=REGISTRY)
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
