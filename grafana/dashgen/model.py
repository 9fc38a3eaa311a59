"""Model dashboard: what the model serves, how wrong it is (feedback), and whether its inputs drifted.

Feature panels are generated from model_service.features.FEATURES, so adding a feature to the schema adds
its panel here on the next ``python grafana/build_dashboards.py``.
"""

from __future__ import annotations

from typing import Any

from dashgen import promql as q
from dashgen.panels import RATE, Grid, dashboard, datasource_variable, query_variable, stat, targets, thresholds
from dashgen.panels import timeseries as ts
from model_service.features import FEATURES, FeatureSpec
from model_service.metrics import ANOMALY_KINDS

UID = "aiops-model"
VERSION = 'model_version=~"$model_version"'
ABS_ERR = "aiops_prediction_absolute_error_seconds"
# Grafana unit ids for the schema's units; anything else is shown as a plain number.
UNITS = {"km": "lengthkm", "bool": "percentunit", "months": "suffix: mo"}
ANOMALY_TITLES = {"missing": "Missing values (null, imputed)", "zero": "Zero values",
                  "out_of_training_range": "Out of training range"}


def _is_boolean(spec: FeatureSpec) -> bool:
    return spec.kind == "int" and (spec.minimum, spec.maximum) == (0, 1)


def feature_panel(spec: FeatureSpec) -> dict[str, Any]:
    """One feature's served-value distribution (a 0/1 feature: the share of ones)."""
    name = spec.metric_name
    mean = f"sum(rate({name}_sum[{RATE}])) / sum(rate({name}_count[{RATE}]))"
    about = f"{spec.description} Bounds {spec.minimum:g}-{spec.maximum:g} {spec.unit}; from the {name} histogram."
    if spec.nullable:
        about += " Nulls are not observed here: see the missing-values panel."
    if _is_boolean(spec):
        return ts(f"{spec.name}: share of rows = 1", about, UNITS["bool"], targets((mean, "share = 1")))
    quantiles = [(f"histogram_quantile({p}, sum by (le) (rate({name}_bucket[{RATE}])))", f"p{round(p * 100)}")
                 for p in (0.1, 0.5, 0.9)]
    return ts(f"{spec.name}: served values (p10 / p50 / p90, mean)",
              about + " Quantiles are interpolated within buckets.", UNITS.get(spec.unit, "short"),
              targets(*quantiles, (mean, "mean")))


def build() -> dict[str, Any]:
    g = Grid()
    g.add(stat("Active model", "The version the service is serving now (aiops_model_info), with its "
               "algorithm and training scenario.", "none",
               targets(("aiops_model_info", "{{version}} ({{algorithm}}, {{data_scenario}})")), text_mode="name"),
          6, 4)
    g.add(stat("Model age", "Time since the active model was trained.", "dtdurations",
               targets(("time() - aiops_model_created_timestamp_seconds", "age"))), 4, 4)
    g.add(stat("Predictions / s", "Rows predicted per second (a batch request counts each row).", "cps",
               targets((f"sum(rate(aiops_predictions_total{{{VERSION}}}[{RATE}]))", "rows/s"))), 4, 4)
    g.add(stat("MAE from feedback (5m)", "Mean absolute error of predictions that received ground truth in "
               "the last 5 minutes: rate(sum) / rate(count) of the absolute-error histogram.", "s",
               targets((f"sum(rate({ABS_ERR}_sum{{{VERSION}}}[5m])) / sum(rate({ABS_ERR}_count{{{VERSION}}}[5m]))",
                        "MAE")), thresholds(("green", None), ("orange", 300), ("red", 600))), 5, 4)
    g.add(stat("Dataset drift share", "Share of features whose drift test fired in the drift monitor's last "
               "run; the dataset counts as drifted at 50%.", "percentunit",
               targets(("aiops_drift_dataset_drift_share", "drifted share")),
               thresholds(("green", None), ("orange", 0.2), ("red", 0.5))), 5, 4)

    g.add(ts("Predictions / s by model version", "Rows predicted per second, by the version that served them: "
             "a deploy or rollback shows as a hand-over between lines.", "cps",
             targets((f"sum by (model_version) (rate(aiops_predictions_total{{{VERSION}}}[{RATE}]))",
                      "{{model_version}}"))), 12, 8)
    g.add(ts("Predicted delivery time (p10 / p50 / p90)", "Distribution of the predictions served: a shift "
             "with unchanged inputs points at the model; with shifted inputs, at the data.", "s",
             targets(*[(f"histogram_quantile({p}, sum by (le) (rate(aiops_predicted_delivery_seconds_bucket[{RATE}])))",
                        f"p{round(p * 100)}") for p in (0.1, 0.5, 0.9)])), 12, 8)

    g.add(ts("MAE from feedback (5m window)", "Windowed mean absolute error by model version, from "
             "/feedback labels: rate(_sum[5m]) / rate(_count[5m]). Rises when the world or the model changed.",
             "s", targets((f"sum by (model_version) (rate({ABS_ERR}_sum{{{VERSION}}}[5m])) / "
                           f"sum by (model_version) (rate({ABS_ERR}_count{{{VERSION}}}[5m]))",
                           "MAE {{model_version}}"))), 8, 8)
    g.add(ts("Quality from the drift monitor", "MAE and RMSE of labelled predictions in the drift monitor's "
             "window (empty until the drift monitor has run with feedback).", "s",
             targets(("aiops_quality_mae_seconds", "MAE"), ("aiops_quality_rmse_seconds", "RMSE"))), 8, 8)
    g.add(ts("Feedback received / s", "Ground-truth labels per second by model version, and labels for "
             "prediction ids the log does not know (client bug or log loss).", "cps",
             targets((f"sum by (model_version) (rate(aiops_feedback_total{{{VERSION}}}[{RATE}]))",
                      "{{model_version}}"),
                     (f"rate(aiops_feedback_unknown_prediction_total[{RATE}])", "unknown prediction id"))), 8, 8)

    for kind in ANOMALY_KINDS:
        g.add(ts(f"{ANOMALY_TITLES.get(kind, kind)}: share of rows",
                 f"Share of predicted rows whose feature was {kind.replace('_', ' ')}, by feature "
                 "(aiops_feature_anomalies_total / aiops_predictions_total). A broken feed or unit bug shows "
                 "here first.", "percentunit",
                 targets((f'sum by (feature) (rate(aiops_feature_anomalies_total{{kind="{kind}"}}[{RATE}])) / '
                          f"on() group_left() sum(rate(aiops_predictions_total[{RATE}]))", "{{feature}}"))),
              24 // len(ANOMALY_KINDS), 8)

    g.add(ts("Feature drift score", "Drift score per feature from the drift monitor's last run (the method "
             "and threshold per feature are in aiops_drift_feature_method_info).", "none",
             targets(("aiops_drift_feature_score", "{{feature}}"))), 10, 8)
    g.add(ts("Dataset and prediction drift", "Share of drifted features, and the drift score of the "
             "predictions themselves.", "none",
             targets(("aiops_drift_dataset_drift_share", "dataset drift share"),
                     ("aiops_drift_prediction_score", "prediction drift score"))), 10, 8)
    g.add(stat("Drift monitor last run", "Time since the drift monitor's last successful run: stale gauges "
               "mean the drift panels describe the past.", "dtdurations",
               targets(("time() - aiops_drift_last_success_timestamp_seconds", "since last run")),
               thresholds(("green", None), ("orange", 300), ("red", 900))), 4, 8)

    for spec in FEATURES:
        g.add(feature_panel(spec), 8, 8)

    variables = [datasource_variable(),
                 query_variable("model_version", "Model version", "aiops_predictions_total", "model_version",
                                "Model versions to show.")]
    return dashboard(UID, "aiops-lab / Model: predictions, quality, drift",
                     "Is the model still right? What it serves, its error against feedback, input anomalies, drift "
                     "scores and the distribution of every feature.", ["model", "drift"], g, variables,
                     q.change_annotations())
