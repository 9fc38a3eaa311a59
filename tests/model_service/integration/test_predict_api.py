"""/predict and /feedback against the real service: answers, ids, request ids, and exact metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from aiops_core.polling import wait_until
from labs.drills.traffic_http import Http1Client, Response
from model_service import generator
from model_service.features import FEATURE_NAMES
from model_service.registry import Registry
from tests.model_service.integration.launcher import logged_rows
from tests.model_service.integration.scrape import scrape, value
from tests.support.processes import ServiceUnderTest

pytestmark = pytest.mark.integration

RECORD = {"distance_km": 3.5, "items_count": 2, "is_peak_hour": 1, "traffic_index": 4.0,
          "courier_experience_months": 12.0}


@pytest.fixture(scope="module")
def client(api: ServiceUnderTest) -> Iterator[httpx.Client]:
    with api.client() as c:
        yield c


def _expected(api: ServiceUnderTest, records: list[dict]) -> np.ndarray:
    """What sklearn itself predicts with the active model (nulls imputed with the training median)."""
    loaded = Registry(api.state_dir / "models").load("v1")
    medians = {n: r.median for n, r in loaded.card.feature_ranges.items()}
    x = np.array([[medians[n] if r[n] is None else r[n] for n in FEATURE_NAMES] for r in records], dtype=float)
    return loaded.estimator.predict(x)


def test_predict_single(api: ServiceUnderTest, client: httpx.Client) -> None:
    resp = client.post("/predict", json=RECORD)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"prediction_id", "predicted_minutes", "model_version"}
    assert body["model_version"] == "v1"
    assert body["predicted_minutes"] == pytest.approx(_expected(api, [RECORD])[0], abs=1e-3)
    assert resp.headers["content-type"] == "application/json"


def test_predict_batch_ids_unique(api: ServiceUnderTest, client: httpx.Client) -> None:
    records = generator.records(generator.generate(200, 5, "feed-broken-null"))[:100] + \
        generator.records(generator.generate(100, 6))
    first = client.post("/predict", json={"instances": records})
    second = client.post("/predict", json={"instances": records[:10]})
    assert first.status_code == 200 and second.status_code == 200, first.text
    body = first.json()
    assert body["model_version"] == "v1"
    got = np.array([p["predicted_minutes"] for p in body["predictions"]])
    assert np.allclose(got, _expected(api, records), atol=1e-3)  # rows stay in request order
    ids = [p["prediction_id"] for p in body["predictions"]] + \
        [p["prediction_id"] for p in second.json()["predictions"]]
    assert len(ids) == len(set(ids)) == 210


def test_a_batch_key_written_with_json_escapes_is_a_batch(api: ServiceUnderTest, client: httpx.Client) -> None:
    """Issue 14: ``{"\\u0069nstances": [...]}`` is legal JSON for "instances"; it was read as one row whose
    fields were all missing (a 422 blaming distance_km)."""
    import json

    records = generator.records(generator.generate(3, 11))
    body = json.dumps({"instances": records}).replace('"instances"', '"\\u0069nstances"', 1)
    assert '"instances"' not in body
    resp = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 200, resp.text
    got = np.array([p["predicted_minutes"] for p in resp.json()["predictions"]])
    assert np.allclose(got, _expected(api, records), atol=1e-3)


def test_explain_attaches_contributions(client: httpx.Client) -> None:
    resp = client.post("/predict", params={"explain": "true"}, json=RECORD)
    assert resp.status_code == 200, resp.text
    assert list(resp.json()["explanation"]) == list(FEATURE_NAMES)
    assert "explanation" not in client.post("/predict", json=RECORD).json()


def test_request_id_echoed_generated_and_logged(api: ServiceUnderTest, client: httpx.Client) -> None:
    given = client.post("/predict", json=RECORD, headers={"X-Request-ID": "order-4711.retry:2"})
    assert given.headers["x-request-id"] == "order-4711.retry:2"
    generated = [client.post("/predict", json=RECORD).headers["x-request-id"] for _ in range(2)]
    assert all(generated) and generated[0] != generated[1]
    # An unsafe value (log injection) is not echoed: the service generates its own instead.
    unsafe = client.post("/predict", json=RECORD, headers={"X-Request-ID": "x\tforged=1"})
    assert unsafe.headers["x-request-id"] not in ("x\tforged=1", "")
    assert client.get("/nope", headers={"X-Request-ID": "on-errors-too"}).headers["x-request-id"] == "on-errors-too"
    pid = given.json()["prediction_id"]
    rows = wait_until(lambda: [r for r in logged_rows(api.state_dir, "id, request_id") if r[0] == pid],
                      timeout=15, what="the prediction in the log")
    assert rows == [(pid, "order-4711.retry:2")]


def test_feedback_known_and_unknown(client: httpx.Client) -> None:
    pred = client.post("/predict", json=RECORD).json()
    before = scrape(client)
    ok = client.post("/feedback", json={"prediction_id": pred["prediction_id"], "actual": 40.0})
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"prediction_id": pred["prediction_id"], "model_version": "v1",
                         "absolute_error_minutes": pytest.approx(abs(pred["predicted_minutes"] - 40.0), abs=2e-3)}
    unknown = client.post("/feedback", json={"prediction_id": "p000-does-not-exist", "actual": 40.0})
    assert unknown.status_code == 404
    assert unknown.json()["error"].startswith("prediction_id: ")
    assert "p000-does-not-exist" in unknown.json()["error"]
    after = scrape(client)
    assert value(after, "aiops_feedback_total", model_version="v1") == \
        value(before, "aiops_feedback_total", model_version="v1") + 1
    assert value(after, "aiops_feedback_unknown_prediction_total") == \
        value(before, "aiops_feedback_unknown_prediction_total") + 1
    err = value(after, "aiops_prediction_absolute_error_seconds_sum", model_version="v1") - \
        value(before, "aiops_prediction_absolute_error_seconds_sum", model_version="v1")
    assert err == pytest.approx(abs(pred["predicted_minutes"] - 40.0) * 60, abs=0.2)


def test_feedback_right_after_predict_before_the_batch_commit(api: ServiceUnderTest, client: httpx.Client) -> None:
    """The log commits every 2 s here; feedback must find a prediction that is still only in the buffer."""
    for _ in range(3):  # a commit may land between the two requests; then try again
        pid = client.post("/predict", json=RECORD).json()["prediction_id"]
        fb = client.post("/feedback", json={"prediction_id": pid, "actual": 30.0})
        assert fb.status_code == 200, fb.text
        if pid not in {r[0] for r in logged_rows(api.state_dir)}:
            break
    else:
        pytest.fail("every prediction was already committed; the pending path was never exercised")
    wait_until(lambda: pid in {r[0] for r in logged_rows(api.state_dir)}, timeout=15, what="commit")


def test_metrics_move_by_exactly_what_was_sent(client: httpx.Client) -> None:
    before = scrape(client)
    for _ in range(7):
        assert client.post("/predict", json=RECORD).status_code == 200
    batch = [dict(RECORD, traffic_index=None if i % 2 else 5.0) for i in range(10)]
    for _ in range(3):
        assert client.post("/predict", json={"instances": batch}).status_code == 200
    bad = [{**RECORD, "distance_km": -1}, {**RECORD, "distance_km": "3"}, {"instances": []},
           {**RECORD, "items_count": 0}]
    for body in bad:
        assert client.post("/predict", json=body).status_code == 422
    assert client.post("/predict", content=b"{").status_code == 422
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("aiops_http_requests_total", route="/predict", method="POST", status="200") == 10
    assert delta("aiops_http_requests_total", route="/predict", method="POST", status="422") == 5
    assert delta("aiops_http_request_duration_seconds_count", route="/predict") == 15
    assert delta("aiops_predictions_total", model_version="v1") == 37
    assert delta("aiops_predicted_delivery_seconds_count") == 37
    assert delta("aiops_feature_distance_km_count") == 37
    assert delta("aiops_feature_traffic_index_count") == 7 + 3 * 5  # nulls are not observed
    assert delta("aiops_feature_anomalies_total", feature="traffic_index", kind="missing") == 15
    assert delta("aiops_validation_errors_total", field="distance_km") == 2
    assert delta("aiops_validation_errors_total", field="instances") == 1
    assert delta("aiops_validation_errors_total", field="items_count") == 1
    assert delta("aiops_validation_errors_total", field="body") == 1
    assert delta("aiops_http_requests_total", route="/metrics", method="GET", status="200") == 1


def test_a_large_batch_moves_metrics_exactly_and_logs_every_row(api: ServiceUnderTest, client: httpx.Client) -> None:
    """Batches of 16 rows or more take the numpy path (predict, anomalies, histograms): same numbers, same log."""
    rows = [dict(RECORD, distance_km=1.0 + i, traffic_index=None if i % 2 else 5.0) for i in range(40)]
    before = scrape(client)
    resp = client.post("/predict", json={"instances": rows})
    assert resp.status_code == 200, resp.text
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("aiops_predictions_total", model_version="v1") == 40
    assert delta("aiops_predicted_delivery_seconds_count") == 40
    assert delta("aiops_feature_distance_km_count") == 40
    assert delta("aiops_feature_distance_km_sum") == pytest.approx(sum(1.0 + i for i in range(40)))
    assert delta("aiops_feature_distance_km_bucket", le="3.0") == 3  # 1, 2 and 3 km: a boundary is inclusive
    assert delta("aiops_feature_traffic_index_count") == 20  # nulls are not observed
    assert delta("aiops_feature_anomalies_total", feature="traffic_index", kind="missing") == 20
    predictions = resp.json()["predictions"]
    served = [p["predicted_minutes"] for p in predictions]
    assert delta("aiops_predicted_delivery_seconds_sum") == pytest.approx(sum(served) * 60, abs=40 * 0.0005 * 60)

    alone = [client.post("/predict", json=rows[i]).json()["predicted_minutes"] for i in (0, 1, 39)]
    assert alone == [served[0], served[1], served[39]]  # a row gets the same answer alone or in a batch
    ids = [p["prediction_id"] for p in predictions]

    def all_logged() -> dict[str, tuple] | None:
        found = {r[0]: r[1:] for r in logged_rows(api.state_dir, "id, prediction, distance_km, traffic_index")
                 if r[0] in set(ids)}
        return found if len(found) == len(ids) else None

    logged = wait_until(all_logged, timeout=15, what="all 40 rows in the log")
    assert [round(logged[pid][0], 3) for pid in ids] == served
    assert [(logged[pid][1], logged[pid][2]) for pid in ids] == [(r["distance_km"], r["traffic_index"]) for r in rows]


def test_health_and_model_card(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "service": "aiops-model-service"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["model_version"] == "v1"
    assert ready["service"] == "aiops-model-service"  # what health checks tell it from a squatter by
    card = client.get("/model").json()
    assert card["version"] == "v1" and set(card["coefficients"]) == set(FEATURE_NAMES)



def test_the_drill_traffic_client_against_the_real_service(api: ServiceUnderTest, client: httpx.Client) -> None:
    """labs.drills.traffic_http, the drill traffic's lean client, as the traffic uses it: concurrent
    predictions and feedback over kept-alive connections, every answer the service's own."""
    records = generator.records(generator.generate(40, 11))
    before = scrape(client)

    async def main() -> tuple[list[Response], list[Response], Response]:
        async with Http1Client(api.url, timeout=10, max_connections=8) as fast:
            preds = await asyncio.gather(*(fast.post("/predict", json.dumps(r).encode()) for r in records))
            feedback = await asyncio.gather(*(fast.post_json("/feedback", {
                "prediction_id": p.json()["prediction_id"], "actual": 30.0}) for p in preds))
            batch = await fast.post_json("/predict", {"instances": records})
        return preds, feedback, batch

    preds, feedback, batch = asyncio.run(main())
    assert [p.status_code for p in preds + feedback + [batch]] == [200] * 81
    got = [p.json()["predicted_minutes"] for p in preds]
    assert np.allclose(got, _expected(api, records), atol=1e-3)  # each answer is its own request's
    assert [p["predicted_minutes"] for p in batch.json()["predictions"]] == got
    after = scrape(client)
    assert value(after, "aiops_feedback_total", model_version="v1") == \
        value(before, "aiops_feedback_total", model_version="v1") + 40


def test_the_service_serves_without_the_training_stack(api: ServiceUnderTest, client: httpx.Client) -> None:
    """Serving reads the coefficients without scikit-learn (model_service.linear_artifact): importing it and
    SciPy was two thirds of the service's start-up. Their compiled extensions would be mapped into the
    process had either (or pandas) been imported, by the model load or by any route a prediction takes."""
    records = generator.records(generator.generate(20, 9))
    assert client.post("/predict", json=RECORD).status_code == 200
    assert client.post("/predict", json={"instances": records}).status_code == 200
    assert client.get("/model").status_code == 200
    maps = (Path("/proc") / str(api.process.proc.pid) / "maps").read_text()
    loaded = {lib for lib in ("sklearn", "scipy", "pandas") if f"site-packages/{lib}/" in maps}
    assert "site-packages/numpy/" in maps  # the check sees compiled extensions at all
    assert loaded == set()
