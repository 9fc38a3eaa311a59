"""Module 02, observe it: PromQL for request rate, error ratio, p99 latency and windowed MAE of /predict.

Each answer in ``queries.yaml`` is evaluated on the lab's Prometheus at the same instants as a reference
expression built here, so the check passes for any equivalent query and only for the live numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

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


_MAE_NO_DATA = ("the MAE needs ground truth: aiops-lab load run sends feedback for half of its predictions after "
                "5 s; run it for 3 minutes and check again")


@dataclass(frozen=True)
class PromqlExercise:
    """One question: the answer key in queries.yaml, what the learner is told, and how it is compared."""

    id: str
    key: str
    title: str
    hint: str
    no_data_hint: str = _TRAFFIC
    need_nonzero: str = ""

    def check(self, ctx: Context) -> None:
        data = ctx.answers(ANSWERS)
        learner = answers.text(data, self.key, ctx.file(ANSWERS), "a PromQL expression")
        live.require("prometheus")
        compare(ctx.steps, self.key, learner, REFERENCE[self.key], no_data_hint=self.no_data_hint,
                hint=self.hint, need_nonzero=self.need_nonzero)


QUESTIONS = (
    PromqlExercise("request-rate", "request_rate", "PromQL: requests per second to /predict",
                   hint="per-second rate of the counter aiops_http_requests_total for route=\"/predict\", summed "
                        "over all statuses and instances, over a 1m window: rate() then sum()"),
    PromqlExercise("error-ratio", "error_ratio", "PromQL: share of /predict requests failing with 5xx",
                   need_nonzero="make some errors first: aiops-lab config set error_ratio 0.05 --reason 'lab 02' "
                                "while traffic runs (set it back to 0 afterwards)",
                   hint="rate of /predict requests with a 5xx status (status=~\"5..\") divided by the rate of all "
                        "/predict requests, both summed, both over 1m; a 4xx is the client's error and does not count"),
    PromqlExercise("p99-latency", "p99_latency_seconds", "PromQL: p99 latency of /predict from the histogram",
                   hint="histogram_quantile(0.99, ...) over the per-bucket rate of "
                        "aiops_http_request_duration_seconds_bucket for /predict over 1m, summed by le"),
    PromqlExercise("windowed-mae", "mae_seconds", "PromQL: windowed mean absolute error of the model",
                   no_data_hint=_MAE_NO_DATA,
                   hint="rate of aiops_prediction_absolute_error_seconds_sum divided by rate of ..._count, each "
                        "summed over all model versions, 2m window (the mean of the errors observed in the window)"),
)
EXERCISES = tuple(Exercise(q.id, q.title, q.check) for q in QUESTIONS)
