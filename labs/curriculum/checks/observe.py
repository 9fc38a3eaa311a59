"""Module 02, observe it: PromQL for request rate, error ratio, p99 latency and windowed MAE of /predict.

Each answer in ``queries.yaml`` is evaluated on the lab's Prometheus at the same instants as a reference
expression built here, so the check passes for any equivalent query and only for the live numbers.
"""

from __future__ import annotations

from labs.curriculum import answers, live
from labs.curriculum.catalogue import Exercise
from labs.curriculum.checks.promql import compare
from labs.curriculum.context import Context

ANSWERS = "queries.yaml"
_REQ = 'aiops_http_requests_total{route="/predict"}'
_DUR = 'aiops_http_request_duration_seconds_bucket{route="/predict"}'
_ERR = "aiops_prediction_absolute_error_seconds"

REFERENCE = {
    "request_rate": f"sum(rate({_REQ}[1m]))",
    "error_ratio": f'(sum(rate(aiops_http_requests_total{{route="/predict",status=~"5.."}}[1m])) or vector(0)) '
                   f"/ sum(rate({_REQ}[1m]))",
    "p99_latency_seconds": f"histogram_quantile(0.99, sum by (le) (rate({_DUR}[1m])))",
    "mae_seconds": f"sum(rate({_ERR}_sum[2m])) / sum(rate({_ERR}_count[2m]))",
}
_TRAFFIC = "send traffic for a few minutes: aiops-lab load run --duration 3m (in a second terminal), then check again"


def _learner(ctx: Context, key: str) -> str:
    data = ctx.answers(ANSWERS)
    return answers.text(data, key, ctx.file(ANSWERS), "a PromQL expression")


def check_rate(ctx: Context) -> None:
    learner = _learner(ctx, "request_rate")
    live.require("prometheus")
    compare(ctx.steps, "request_rate", learner, REFERENCE["request_rate"],
            no_data_hint=_TRAFFIC,
            hint="per-second rate of the counter aiops_http_requests_total for route=\"/predict\", summed over all "
                 "statuses and instances, over a 1m window: rate() then sum()")


def check_error_ratio(ctx: Context) -> None:
    learner = _learner(ctx, "error_ratio")
    live.require("prometheus")
    compare(ctx.steps, "error_ratio", learner, REFERENCE["error_ratio"],
            no_data_hint=_TRAFFIC,
            need_nonzero="make some errors first: aiops-lab config set error_ratio 0.05 --reason 'lab 02' while "
                         "traffic runs (set it back to 0 afterwards)",
            hint="rate of /predict requests with a 5xx status (status=~\"5..\") divided by the rate of all /predict "
                 "requests, both summed, both over 1m; a 4xx is the client's error and does not count")


def check_p99(ctx: Context) -> None:
    learner = _learner(ctx, "p99_latency_seconds")
    live.require("prometheus")
    compare(ctx.steps, "p99_latency_seconds", learner,
            REFERENCE["p99_latency_seconds"], no_data_hint=_TRAFFIC,
            hint="histogram_quantile(0.99, ...) over the per-bucket rate of "
                 "aiops_http_request_duration_seconds_bucket for /predict over 1m, summed by le")


def check_mae(ctx: Context) -> None:
    learner = _learner(ctx, "mae_seconds")
    live.require("prometheus")
    compare(ctx.steps, "mae_seconds", learner, REFERENCE["mae_seconds"],
            no_data_hint="the MAE needs ground truth: aiops-lab load run sends feedback for half of its "
                         "predictions after 5 s; run it for 3 minutes and check again",
            hint="rate of aiops_prediction_absolute_error_seconds_sum divided by rate of ..._count, each summed "
                 "over all model versions, 2m window (the mean of the errors observed in the window)")


EXERCISES = (
    Exercise("request-rate", "PromQL: requests per second to /predict", check_rate),
    Exercise("error-ratio", "PromQL: share of /predict requests failing with 5xx", check_error_ratio),
    Exercise("p99-latency", "PromQL: p99 latency of /predict from the histogram", check_p99),
    Exercise("windowed-mae", "PromQL: windowed mean absolute error of the model", check_mae),
)
