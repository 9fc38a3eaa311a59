"""Modules 01, 02, 04, 05 and 06 played on one of the drill pool's labs: scripted correct solutions pass,
mistakes fail.

Module 01 deploys the learner's model; live traffic with errors and slow batches then runs while modules
02/04/05 are measured; module 06 sends its drifted traffic after it stopped (a drift window must hold only the
learner's rows). The learner's commands run as separate processes (a pool job runs in a worker thread, where
click's in-process runner is not safe). A pool job because it mostly waits -- for scrapes, for windows to fill
-- and used to start a lab of its own in the foreground (~36 s there). The lab is put back afterwards (v1
active, flags at their defaults) for the drills that follow on it. ``test_live.py`` reports each module.
"""

from __future__ import annotations

import json
import re
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.curriculum.checks import drift as drift_checks
from model_service import generator
from tests.labs.curriculum.traffic import Traffic
from tests.labs.drills import steps
from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job
from tests.support.lab import normal

OK = "ok"


@dataclass
class Ran:
    exit_code: int
    output: str
    text: str  # the output with line wrapping undone


class Learner:
    """A learner's terminal on a pool lab: ``run`` is ``aiops-lab ARGS`` in a new process."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.state = lab.state

    def run(self, *args: str) -> Ran:
        done = self.lab.cli(*args, timeout=300)
        output = done.stdout + done.stderr
        return Ran(done.returncode, output, normal(output))

    def url(self, name: str) -> str:
        return self.lab.url(name)

    def workspace(self, module: str) -> Path:
        return self.state / "workspace" / module


def prom(lab: Learner, expr: str, at: float) -> float | None:
    body = lab_http.get(lab.url("prometheus") + "/api/v1/query", params={"query": expr, "time": f"{at:.3f}"}).json()
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def answer(lab: Learner, module: str, name: str, data: dict) -> None:
    (lab.workspace(module) / name).write_text(yaml.safe_dump(data, sort_keys=False))


def check(lab: Learner, target: str, passes: bool) -> str:
    result = lab.run("lab", "check", target)
    assert result.exit_code == (0 if passes else 1), result.output
    return result.text


# --- 01 serve a model -----------------------------------------------------------------------------------
def serve_a_model(live_lab: Learner) -> None:
    lab, module, url = live_lab, "01-serve-a-model", live_lab.url("model-service")
    assert lab.run("lab", "start", module).exit_code == 0
    trained = lab.run("model", "train", "--rows", "2000", "--seed", "11", "--no-deploy")
    version = re.search(r"registered (v\d+)", trained.text).group(1)  # type: ignore[union-attr]
    text = check(lab, f"{module}/train-deploy", passes=False)
    assert "the running service serves v1" in text and f"aiops-lab model deploy {version}" in text
    assert lab.run("model", "deploy", version).exit_code == 0
    check(lab, f"{module}/train-deploy", passes=True)

    records = generator.records(generator.generate(3, seed=2))
    single = lab_http.post(url + "/predict", json=records[0], headers={"X-Request-ID": "t-single-1"}).json()
    lab_http.post(url + "/predict", json={"instances": records[:2]}, headers={"X-Request-ID": "t-batch-1"})
    other = lab_http.post(url + "/predict", json=records[2], headers={"X-Request-ID": "someone-else"}).json()
    fb = lab_http.post(url + "/feedback", json={"prediction_id": single["prediction_id"], "actual": 25}).json()
    lab_http.post(url + "/feedback", json={"prediction_id": other["prediction_id"], "actual": 30})
    card = lab_http.get(url + "/model").json()
    good = {"single_request_id": "t-single-1", "batch_request_id": "t-batch-1", "model_version": card["version"],
            "training_rows": card["training_rows"], "holdout_mae_minutes": round(card["metrics"]["holdout"]["mae"], 3),
            "feedback_prediction_id": single["prediction_id"], "absolute_error_minutes": fb["absolute_error_minutes"]}

    wrong = {**good, "single_request_id": "t-batch-1", "batch_request_id": "never-sent",
             "holdout_mae_minutes": card["metrics"]["golden"]["mae"] + 1, "feedback_prediction_id":
             other["prediction_id"]}
    answer(lab, module, "answers.yaml", wrong)
    text = check(lab, module, passes=False)
    assert "2 row(s) with that request id" in text and "ONE record object" in text
    assert "no prediction with request id 'never-sent'" in text and "X-Request-ID: never-sent" in text
    assert "metrics.holdout.mae in the model card" in text
    assert "it was made by request 'someone-else'" in text

    answer(lab, module, "answers.yaml", good)
    text = check(lab, module, passes=True)
    assert "5 exercise(s) passed" in text


# --- 02, 04, 05 under live traffic with errors and slow batches -------------------------------------------
REFERENCE_ERRORS = ('(sum(rate(aiops_http_requests_total{route="/predict",status=~"5.."}[1m])) or vector(0))'
                    ' / sum(rate(aiops_http_requests_total{route="/predict"}[1m]))')
# Enough bad events, slow requests and labels in the windows that every check sees them, even 40 s back.
WARM = (
    'sum(increase(aiops_http_requests_total{route="/predict",status=~"5.."}[1m])) >= 5',
    'sum(increase(aiops_http_request_duration_seconds_count{route="/predict"}[1m])) - '
    'sum(increase(aiops_http_request_duration_seconds_bucket{route="/predict",le="0.25"}[1m])) >= 3',
    "sum(increase(aiops_prediction_absolute_error_seconds_count[2m])) >= 10",
)


@contextmanager
def traffic(lab: Learner) -> Iterator[Traffic]:
    """Live traffic with 10% errors and slow explained batches, until the block is done (bounded anyway)."""
    for flag, value in (("error_ratio", "0.1"), ("explanations_enabled", "true")):
        assert lab.run("config", "set", flag, value, "--reason", "curriculum test").exit_code == 0
    sender = Traffic(lab.url("model-service")).start()
    try:
        wait_until(lambda: all(prom(lab, q, time.time() - 3) is not None for q in WARM),
                   timeout=90, interval=2, what="errors, slow requests and feedback in Prometheus")
        yield sender
    finally:
        sender.stop()
        for flag, value in (("error_ratio", "0"), ("explanations_enabled", "false")):
            lab.run("config", "set", flag, value, "--reason", "curriculum test done")


def observe_it(live_lab: Learner) -> None:
    lab, module = live_lab, "02-observe-it"
    assert lab.run("lab", "start", module).exit_code == 0
    answer(lab, module, "queries.yaml", {
        "request_rate": 'sum(rate(aiops_http_requests_total{route="/predict"}[1m]))',
        "error_ratio": 'sum(rate(aiops_http_requests_total{route="/predict",status=~"5.."}[1m])) / '
                       'sum(rate(aiops_http_requests_total{route="/predict"}[1m]))',
        "p99_latency_seconds": 'histogram_quantile(0.99, sum by (le) '
                               '(rate(aiops_http_request_duration_seconds_bucket{route="/predict"}[1m])))',
        "mae_seconds": "sum(rate(aiops_prediction_absolute_error_seconds_sum[2m])) / "
                       "sum(rate(aiops_prediction_absolute_error_seconds_count[2m]))"})
    assert "4 exercise(s) passed" in check(lab, module, passes=True)

    answer(lab, module, "queries.yaml", {
        "request_rate": "sum(rate(aiops_http_requests_total[1m]))",
        "error_ratio": 'sum(rate(aiops_http_requests_total{route="/predict",status=~"5.."}[1m]))',
        "p99_latency_seconds": 'sum(rate(aiops_http_request_duration_seconds_sum{route="/predict"}[1m])) / '
                               'sum(rate(aiops_http_request_duration_seconds_count{route="/predict"}[1m]))',
        "mae_seconds": "rate(aiops_prediction_absolute_error_seconds_sum[2m]) / "})
    text = check(lab, module, passes=False)
    assert re.search(r"request_rate: at \S+ your query gives [\d.]+, the lab measures [\d.]+", text)
    assert re.search(r"error_ratio: at \S+ your query gives", text)
    assert "histogram_quantile(0.99" in text
    assert "mae_seconds: Prometheus rejects the query" in text

def dashboards(live_lab: Learner) -> None:
    lab, module = live_lab, "04-dashboards"
    started = lab.run("lab", "start", module)
    assert started.exit_code == 0 and "a copy of grafana/dashboards/service.json" in started.text
    path = lab.workspace(module) / "dashboard.json"
    model = json.loads(path.read_text())
    model["uid"], model["title"] = "my-service", "My service"
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in model["panels"])
    panel = {"id": max(p["id"] for p in model["panels"]) + 1, "type": "timeseries",
             "title": "Predictions per second by model version",
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "gridPos": {"x": 0, "y": bottom, "w": 12, "h": 8},
             "fieldConfig": {"defaults": {"unit": "ops"}, "overrides": []},
             "targets": [{"refId": "A", "expr": "sum by (model_version) "
                          "(rate(aiops_predictions_total[$__rate_interval]))"}]}
    model["panels"].append(panel)
    path.write_text(json.dumps(model))
    assert "2 exercise(s) passed" in check(lab, module, passes=True)

    panel["targets"][0]["expr"] = "sum by (model_version) (aiops_predictions_total)"
    panel["gridPos"]["y"] = 0
    path.write_text(json.dumps(model))
    text = check(lab, module, passes=False)
    assert "overlap" in text
    panel["gridPos"]["y"] = bottom
    path.write_text(json.dumps(model))
    text = check(lab, f"{module}/prediction-panel", passes=False)
    assert "never the raw counter" in text
    path.write_text(path.read_text()[:-2])
    assert "dashboard.json: Expecting" in check(lab, f"{module}/valid-model", passes=False)

def slos_and_error_budgets(live_lab: Learner) -> None:
    lab, module = live_lab, "05-slos-and-error-budgets"
    assert lab.run("lab", "start", module).exit_code == 0
    at = time.time()
    # measure like a learner, once Prometheus has scraped past that instant (no late sample changes it)
    wait_until(lambda: (prom(lab, 'max(timestamp(up{job="model-service"}))', time.time()) or 0) > at + 0.5,
               timeout=20, what="a scrape after measured_at")
    bad = prom(lab, REFERENCE_ERRORS.replace("[1m]", "[2m]"), at)
    slow = 1 - prom(lab, 'sum(rate(aiops_http_request_duration_seconds_bucket{route="/predict",le="0.25"}[2m]))'
                         ' / sum(rate(aiops_http_request_duration_seconds_count{route="/predict"}[2m]))', at)
    assert bad and slow, "the traffic fixture guarantees bad events in both SLIs"
    good = {"measured_at": at, "window": "2m",
            "availability": {"objective": 0.99, "error_budget": 0.01, "budget_minutes_30d": 432,
                             "error_ratio": bad, "burn_rate": bad / 0.01},
            "latency": {"threshold_seconds": 0.25, "objective": 0.95, "error_budget": 0.05,
                        "budget_minutes_30d": 2160, "error_ratio": slow, "burn_rate": slow / 0.05}}
    answer(lab, module, "slo.yaml", good)
    assert "3 exercise(s) passed" in check(lab, module, passes=True)

    wrong = {**good, "availability": {**good["availability"], "burn_rate": bad * 0.01},
             "latency": {**good["latency"], "error_ratio": 1 - slow}}
    answer(lab, module, "slo.yaml", wrong)
    text = check(lab, module, passes=False)
    assert "availability.burn_rate: you wrote" in text and "error ratio / (1 - 0.99)" in text
    assert "latency.error_ratio: you wrote" in text
    answer(lab, module, "slo.yaml", {**good, "measured_at": time.time() + 3600})
    assert "is in the future" in check(lab, f"{module}/latency-burn", passes=False)



# --- 06 drift -------------------------------------------------------------------------------------------
def drift(live_lab: Learner) -> None:
    lab, module = live_lab, "06-drift"
    assert lab.run("lab", "start", module).exit_code == 0
    assert "1000" in check(lab, f"{module}/traffic", passes=False)
    sent = lab.run("lab", "traffic", module)
    assert sent.exit_code == 0 and "sent 1500 rows" in sent.text, sent.output
    report = lab.run("drift", "report", "--rows", "1500")
    assert report.exit_code == 0, report.output
    html = Path(re.search(r"Evidently report: (\S+\.html)", report.text).group(1))  # type: ignore[union-attr]
    summary = json.loads(html.with_suffix(".json").read_text())["summary"]
    worst = max((f for f in summary["features"] if f["drifted"]), key=lambda f: f["score"])
    # The scripted learner reads feature, method and score from the report; the scenario is the diagnosis
    # a learner makes from the zero and out-of-range shares -- here taken from the seed's ground truth.
    seed = json.loads((lab.state / "curriculum" / "progress.json").read_text())["modules"][module]["seed"]
    truth = drift_checks.scenario(seed)
    good = {"drifted_feature": worst["name"], "scenario": truth, "method": worst["method"],
            "score": round(worst["score"], 3)}
    answer(lab, module, "drift.yaml", good)
    assert "3 exercise(s) passed" in check(lab, module, passes=True)

    sibling = next(s for s in drift_checks.MYSTERY if s != truth
                   and drift_checks.drifted_features(s, seed) == drift_checks.drifted_features(truth, seed))
    answer(lab, module, "drift.yaml", {**good, "scenario": sibling, "score": good["score"] * 3,
                                       "method": "ks"})
    text = check(lab, module, passes=False)
    assert f"scenario: you named {sibling}" in text and "zero share" in text
    assert "method: you named ks" in text and "score: you wrote" in text
    answer(lab, module, "drift.yaml", {**good, "drifted_feature": "speed_kmh"})
    assert "'speed_kmh' is not a feature" in check(lab, f"{module}/diagnose", passes=False)
    assert generator.SCENARIOS[truth]  # the drawn scenario is one of the generator's


MODULES = ("01-serve-a-model", "02-observe-it", "04-dashboards", "05-slos-and-error-budgets", "06-drift")


def modules_on_a_lab(pool_lab: Lab) -> dict[str, str]:
    """Each module's outcome: ``OK``, the failure with its traceback, or why it was not played."""
    lab, outcome = Learner(pool_lab), {}

    def play(module: str, step: Callable[[Learner], None]) -> bool:
        try:
            step(lab)
        except Exception as exc:
            outcome[module] = "".join(traceback.format_exception(exc)) + "\n--- last CLI commands ---\n" + \
                pool_lab.recent_output()
            return False
        outcome[module] = OK
        return True

    try:
        if play(MODULES[0], serve_a_model):
            try:
                with traffic(lab):
                    for module, step in zip(MODULES[1:4], (observe_it, dashboards, slos_and_error_budgets),
                                            strict=True):
                        play(module, step)
            except Exception as exc:  # the traffic never warmed up: modules 02-05 cannot be judged
                for module in MODULES[1:4]:
                    outcome.setdefault(module, f"not played: the live traffic failed: {exc}")
            play(MODULES[4], drift)
    finally:
        pool_lab.traffic_stopped_at = time.time()
        steps.reset(pool_lab)  # v1 active, default flags: the drills after this job expect the lab as it was
    for module in MODULES:
        outcome.setdefault(module, f"not played: {MODULES[0]} failed")
    return outcome


JOBS = [Job("curriculum: modules 01-06 on a live lab", modules_on_a_lab, cost_s=110)]
