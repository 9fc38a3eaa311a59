"""The admin API against the real service: auth, model deploy/rollback, runtime flags and their effects.

The tests share one service and each restores what it changed (active model v1, default flags).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from tests.model_service.integration.launcher import fresh_state, launch, stop_cleanly
from tests.model_service.integration.scrape import scrape, series, value
from tests.support.lab import Lab, lab_environment
from tests.support.processes import ADMIN_TOKEN, ServiceUnderTest
from tests.support.speed import scaled

pytestmark = pytest.mark.integration

RECORD = {"distance_km": 3.5, "items_count": 2, "is_peak_hour": 1, "traffic_index": 4.0,
          "courier_experience_months": 12.0}


@pytest.fixture(scope="module")
def admin(api: ServiceUnderTest) -> Iterator[httpx.Client]:
    with lab_http.new_client(base_url=api.url, timeout=10.0, headers={**api.admin_headers, "X-Actor": "alice"}) as c:
        yield c


@pytest.fixture(scope="module")
def client(api: ServiceUnderTest) -> Iterator[httpx.Client]:
    with api.client() as c:
        yield c


def _set_flag(admin: httpx.Client, flag: str, value: object, reason: str = "test") -> httpx.Response:
    resp = admin.put(f"/admin/config/{flag}", json={"value": value, "reason": reason})
    assert resp.status_code == 200, resp.text
    return resp


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/admin/models"), ("POST", "/admin/model/rollback"), ("GET", "/admin/config"),
    ("PUT", "/admin/config/error_ratio"), ("GET", "/admin/config/history"),
])
def test_admin_needs_the_token(client: httpx.Client, method: str, path: str) -> None:
    body = {"value": 1.0} if method == "PUT" else None
    missing = client.request(method, path, json=body)
    assert missing.status_code == 401
    assert missing.json()["error"].startswith("authorization: ")
    assert missing.headers["www-authenticate"] == "Bearer"
    basic = client.request(method, path, json=body, headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert basic.status_code == 401
    wrong = client.request(method, path, json=body, headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 403
    assert "token is wrong" in wrong.json()["error"]


def test_rollback_changes_the_served_version_and_model_info(admin: httpx.Client, client: httpx.Client) -> None:
    before = scrape(client)
    deployed = admin.post("/admin/model/deploy", json={"version": "v2"}, params={"force": "true"})  # v2 is worse
    assert deployed.json() == {"active": "v2", "previous": "v1", "action": "deploy"}
    assert client.post("/predict", json=RECORD).json()["model_version"] == "v2"
    assert client.post("/predict", json={"instances": [RECORD]}).json()["model_version"] == "v2"
    assert [s["version"] for s in series(scrape(client), "aiops_model_info")] == ["v2"]

    rolled = admin.post("/admin/model/rollback")
    assert rolled.status_code == 200, rolled.text
    assert rolled.json() == {"active": "v1", "previous": "v2", "action": "rollback"}
    assert client.post("/predict", json=RECORD).json()["model_version"] == "v1"
    assert client.get("/model").json()["version"] == "v1"
    after = scrape(client)
    assert [s["version"] for s in series(after, "aiops_model_info")] == ["v1"]
    for action in ("deploy", "rollback"):
        assert value(after, "aiops_model_deployments_total", action=action) == \
            value(before, "aiops_model_deployments_total", action=action) + 1
    models = admin.get("/admin/models").json()
    assert models["active"] == "v1"
    assert [(h["action"], h["version"], h["actor"]) for h in models["history"][-2:]] == [
        ("deploy", "v2", "alice"), ("rollback", "v1", "alice")]
    # Nothing earlier to go back to: a clear conflict, not a redeploy of the bad version.
    again = admin.post("/admin/model/rollback")
    assert again.status_code == 409 and again.json()["error"].startswith("version: ")


@pytest.mark.parametrize(("body", "status", "names"), [
    ({"version": "v9"}, 404, "v9"), ({"version": "latest"}, 422, "version"), ({}, 422, "version"),
    ({"version": "v1", "force": True}, 422, "force"),
])
def test_deploy_refuses_bad_versions(admin: httpx.Client, body: dict, status: int, names: str) -> None:
    resp = admin.post("/admin/model/deploy", json=body)
    assert resp.status_code == status
    assert names in resp.json()["error"]
    assert admin.get("/admin/models").json()["active"] == "v1"


def test_config_change_is_recorded_with_actor_and_exported(admin: httpx.Client, client: httpx.Client) -> None:
    before = scrape(client)
    entry = _set_flag(admin, "extra_latency_ms", 5, reason="drill: slow dependency").json()
    try:
        assert {k: entry[k] for k in ("flag", "old", "new", "actor")} == {
            "flag": "extra_latency_ms", "old": 0, "new": 5, "actor": "alice"}
        last = admin.get("/admin/config/history").json()["changes"][-1]
        assert (last["flag"], last["old"], last["new"], last["actor"], last["reason"]) == (
            "extra_latency_ms", 0, 5, "alice", "drill: slow dependency")
        assert admin.get("/admin/config").json()["flags"]["extra_latency_ms"] == 5
        after = scrape(client)
        assert value(after, "aiops_config_flag", flag="extra_latency_ms") == 5
        assert value(after, "aiops_config_changes_total", flag="extra_latency_ms") == \
            value(before, "aiops_config_changes_total", flag="extra_latency_ms") + 1
    finally:
        _set_flag(admin, "extra_latency_ms", 0)
    assert value(scrape(client), "aiops_config_flag", flag="extra_latency_ms") == 0


@pytest.mark.parametrize(("flag", "body", "status", "names"), [
    ("error_ratio", {"value": 2}, 422, "error_ratio"), ("turbo", {"value": 1}, 404, "turbo"),
    ("traffic_feed", {"value": "dead"}, 422, "traffic_feed"), ("error_ratio", {}, 422, "value"),
    ("error_ratio", {"value": 0, "who": "me"}, 422, "who"),
])
def test_bad_config_changes_are_refused(admin: httpx.Client, flag: str, body: dict, status: int,
                                        names: str) -> None:
    history = len(admin.get("/admin/config/history").json()["changes"])
    resp = admin.put(f"/admin/config/{flag}", json=body)
    assert resp.status_code == status
    assert names in resp.json()["error"]
    assert len(admin.get("/admin/config/history").json()["changes"]) == history


def test_bad_actor_header_is_refused(api: ServiceUnderTest) -> None:
    resp = httpx.put(f"{api.url}/admin/config/error_ratio", json={"value": 0},
                     headers={**api.admin_headers, "X-Actor": "eve; rm -rf"})
    assert resp.status_code == 422 and resp.json()["error"].startswith("x-actor")


def test_error_ratio_one_turns_predict_into_counted_500s(admin: httpx.Client, client: httpx.Client) -> None:
    before = scrape(client)
    _set_flag(admin, "error_ratio", 1.0)
    try:
        for _ in range(5):
            resp = client.post("/predict", json=RECORD)
            assert resp.status_code == 500
            assert "request id" in resp.json()["error"]
            assert resp.headers["x-request-id"]
        assert client.post("/feedback", json={"prediction_id": "p-x", "actual": 3}).status_code == 404
    finally:
        _set_flag(admin, "error_ratio", 0.0)
    assert client.post("/predict", json=RECORD).status_code == 200
    after = scrape(client)
    assert value(after, "aiops_http_requests_total", route="/predict", method="POST", status="500") == \
        value(before, "aiops_http_requests_total", route="/predict", method="POST", status="500") + 5
    assert value(after, "aiops_predictions_total", model_version="v1") == \
        value(before, "aiops_predictions_total", model_version="v1") + 1  # failed requests predicted nothing


def test_a_request_burning_cpu_on_the_event_loop_shows_as_loop_lag(admin: httpx.Client, client: httpx.Client) -> None:
    """Requests that wait for a busy loop wait before their handler starts, where the latency histogram cannot
    see them; the loop-lag histogram does (model_service/loop_lag.py)."""

    def lagged() -> float:  # samples later than 250 ms
        s = scrape(client)
        return (value(s, "aiops_event_loop_lag_seconds_bucket", le="+Inf")
                - value(s, "aiops_event_loop_lag_seconds_bucket", le="0.25"))

    wait_until(lambda: value(scrape(client), "aiops_event_loop_lag_seconds_count") > 0, timeout=scaled(5),
               what="the first loop-lag sample (taken while idle too)")
    before = lagged()
    _set_flag(admin, "cpu_burn_ms", 500)  # blocks the loop for 0.5 s: the watcher wakes >= 0.4 s late
    try:
        assert client.post("/predict", json=RECORD).status_code == 200
    finally:
        _set_flag(admin, "cpu_burn_ms", 0)
    wait_until(lambda: lagged() > before, timeout=scaled(10), what="a loop-lag sample above 250 ms")


def test_admin_is_disabled_without_a_token(trained_registry: Path, tmp_path: Path) -> None:
    svc = launch(fresh_state(trained_registry, tmp_path), admin_token=None)
    try:
        for headers in ({}, {"Authorization": "Bearer anything-at-all-123"}):
            resp = lab_http.get(f"{svc.url}/admin/models", headers=headers)
            assert resp.status_code == 403
            assert "disabled" in resp.json()["error"] and "AIOPS_ADMIN_TOKEN" in resp.json()["error"]
        assert lab_http.post(f"{svc.url}/predict", json=RECORD).status_code == 200
    finally:
        stop_cleanly(svc)


def test_restart_keeps_the_active_model_and_flags(trained_registry: Path, tmp_path: Path) -> None:
    state = fresh_state(trained_registry, tmp_path)
    first = launch(state)
    try:
        with lab_http.new_client(base_url=first.url, headers=first.admin_headers, timeout=10) as c:
            assert c.post("/admin/model/deploy", json={"version": "v2"}, params={"force": "true"}).status_code == 200
            assert c.put("/admin/config/traffic_feed", json={"value": "null"}).status_code == 200
            assert c.put("/admin/config/extra_latency_ms", json={"value": 3}).status_code == 200
    finally:
        stop_cleanly(first)
    second = launch(state)
    try:
        with second.client() as c:
            assert c.post("/predict", json=RECORD).json()["model_version"] == "v2"
            flags = c.get("/admin/config", headers=second.admin_headers).json()["flags"]
            assert (flags["traffic_feed"], flags["extra_latency_ms"]) == ("null", 3)
            samples = scrape(c)
            assert [s["version"] for s in series(samples, "aiops_model_info")] == ["v2"]
            assert value(samples, "aiops_config_flag", flag="traffic_feed") == 2.0
            assert value(samples, "aiops_config_flag", flag="extra_latency_ms") == 3.0
            # The persisted broken feed is really applied: traffic_index is treated as missing.
            assert value(samples, "aiops_feature_anomalies_total", feature="traffic_index", kind="missing") == 1
            history = c.get("/admin/config/history", headers=second.admin_headers).json()["changes"]
            assert [h["flag"] for h in history] == ["traffic_feed", "extra_latency_ms"]
    finally:
        second.process.stop()


def test_deploying_a_damaged_version_changes_nothing(api: ServiceUnderTest, admin: httpx.Client,
                                                     client: httpx.Client) -> None:
    models = api.state_dir / "models"
    shutil.copytree(models / "v2", models / "v3")
    (models / "v3" / "model.skops").write_bytes(b"truncated upload")
    shutil.copytree(models / "v2", models / "v4")
    (models / "v4" / "reference.csv").unlink()
    before = scrape(client)
    for version in ("v3", "v4"):
        resp = admin.post("/admin/model/deploy", json={"version": version})
        assert resp.status_code == 404, resp.text
        assert resp.json()["error"].startswith("version: ") and "\n" not in resp.json()["error"]
    assert "cannot be loaded" in admin.post("/admin/model/deploy", json={"version": "v3"}).json()["error"]
    assert client.post("/predict", json=RECORD).json()["model_version"] == "v1"
    after = scrape(client)
    assert [s["version"] for s in series(after, "aiops_model_info")] == ["v1"]
    assert value(after, "aiops_model_deployments_total", action="deploy") == \
        value(before, "aiops_model_deployments_total", action="deploy")
    assert admin.get("/admin/models").json()["active"] == "v1"


def test_unloadable_active_model_means_not_ready_until_a_deploy(trained_registry: Path, tmp_path: Path) -> None:
    state = fresh_state(trained_registry, tmp_path)
    (state / "models" / "v1" / "model.skops").write_bytes(b"")  # the active model's file got truncated
    svc = launch(state, wait_ready=False)
    try:
        with svc.client() as c:
            ready = c.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["model_loaded"] is False
            resp = c.post("/predict", json=RECORD)
            assert resp.status_code == 503 and resp.json()["error"].startswith("model: ")
            assert c.get("/model").status_code == 503
            # The learner's fix, with the CLI: the service is alive though not ready, so it deploys live.
            cli = Lab(lab_environment(state, AIOPS_MODEL_SERVICE_URL=svc.url, AIOPS_ADMIN_TOKEN=ADMIN_TOKEN))
            deployed = cli.run("model", "deploy", "v2")
            assert deployed.exit_code == 0 and "(live on" in deployed.text, deployed.output
            assert c.get("/readyz").status_code == 200
            assert c.post("/predict", json=RECORD).json()["model_version"] == "v2"
        assert json.loads((state / "models" / "active.json").read_text())["version"] == "v2"
    finally:
        svc.process.stop()
    assert "active model failed to load" in svc.process.output()
