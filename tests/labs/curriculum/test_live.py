"""Modules 01, 02, 04, 05 and 06 against ONE real lab: scripted correct solutions pass, mistakes fail.

Module 01 deploys the learner's model; the traffic class (its own fixture, ended with the class) measures
modules 02/04/05 under errors and slow batches; module 06 sends its drifted traffic when the class is not
running (a drift window must hold only the learner's rows: pytest never interleaves a class's tests with
others). Module 07 measures the machine's capacity, so it runs on a lab of its own, alone on the CPU, as a
job of the drill pool (``capacity_job.py``); its outcome is reported here.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.curriculum.checks import drift as drift_checks
from model_service import generator
from tests.labs.curriculum.capacity_job import JOBS as CAPACITY_JOBS
from tests.labs.curriculum.conftest import Lab
from tests.labs.curriculum.traffic import Traffic
from tests.labs.drills.jobs import DrillPool

pytestmark = pytest.mark.integration


def prom(lab: Lab, expr: str, at: float) -> float | None:
    body = lab_http.get(lab.url("prometheus") + "/api/v1/query", params={"query": expr, "time": f"{at:.3f}"}).json()
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def answer(lab: Lab, module: str, name: str, data: dict) -> None:
    (lab.workspace(module) / name).write_text(yaml.safe_dump(data, sort_keys=False))


def check(lab: Lab, target: str, passes: bool) -> str:
    result = lab.run("lab", "check", target)
    assert result.exit_code == (0 if passes else 1), result.output
    return result.text


# --- 01 serve a model -----------------------------------------------------------------------------------
def test_01_serve_a_model(live_lab: Lab) -> None:
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


@pytest.fixture(scope="class")
def traffic(live_lab: Lab) -> Iterator[Traffic]:
    """Live traffic with 10% errors and slow explained batches, until the class is done (bounded anyway)."""
    lab = live_lab
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


@pytest.mark.usefixtures("traffic")
class TestUnderTraffic:
    def test_02_observe_it(self, live_lab: Lab) -> None:
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

    def test_04_dashboards(self, live_lab: Lab) -> None:
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

    def test_05_slos_and_error_budgets(self, live_lab: Lab) -> None:
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
def test_06_drift(live_lab: Lab) -> None:
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


# --- 07 load and capacity: a heavy job of the drill pool, on a lab of its own (capacity_job.py) -------------
@pytest.mark.pool(CAPACITY_JOBS[0].name)
def test_07_load_and_capacity(drill_pool: DrillPool) -> None:
    [job] = CAPACITY_JOBS
    print(drill_pool.outcome(job.name))
