"""The traffic feed as a process: readings, errors that name the field, provider faults, metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aiops_core import http as lab_http
from labs.traffic_feed import remote
from labs.traffic_feed.control import FeedFault
from model_service import congestion
from tests.labs.traffic_feed.feed import PROBE, FeedUnderTest, start_feed

pytestmark = pytest.mark.integration
TOKEN = "feed-control-token-0123456789"


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedUnderTest]:
    f = start_feed(tmp_path_factory.mktemp("feed") / "state", AIOPS_TRAFFIC_FEED_CONTROL_TOKEN=TOKEN)
    try:
        yield f
    finally:
        f.process.stop()


@pytest.fixture
def client(feed: FeedUnderTest) -> Iterator[httpx.Client]:
    with lab_http.new_client(base_url=feed.url, timeout=10.0) as c:
        yield c
    feed.heal()


def _counter(client: httpx.Client, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_lookups_answer_the_worlds_reading_per_route(client: httpx.Client) -> None:
    routes = [{"distance_km": 3.2, "is_peak_hour": 1}, {"distance_km": 12, "is_peak_hour": 0}]
    resp = client.post("/v1/traffic-index", json={"routes": routes})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"traffic_index": [congestion.reading(3.2, 1), congestion.reading(12.0, 0)]}
    one = client.get(PROBE)
    assert one.json() == {"distance_km": 3.2, "is_peak_hour": 1, "traffic_index": congestion.reading(3.2, 1)}


@pytest.mark.parametrize(("method", "kwargs", "field"), [
    ("POST", {"json": {"routes": [{"distance_km": -1, "is_peak_hour": 0}]}}, "routes[0].distance_km"),
    ("POST", {"json": {"routes": [{"distance_km": 1.0, "is_peak_hour": 2}]}}, "routes[0].is_peak_hour"),
    ("POST", {"json": {"routes": [{"distance_km": "1", "is_peak_hour": 0}]}}, "routes[0].distance_km"),
    ("POST", {"json": {"routes": []}}, "routes"),
    ("POST", {"content": b"{nope"}, "body"),
    ("POST", {"json": {"routes": [{"distance_km": 1.0, "is_peak_hour": 0, "zone": "x"}]}}, "routes[0].zone"),
    ("GET", {"params": {"distance_km": "far", "is_peak_hour": "1"}}, "distance_km"),
    ("GET", {"params": {"distance_km": "2"}}, "is_peak_hour"),
])
def test_bad_lookups_are_422s_naming_the_field(client: httpx.Client, method: str, kwargs: dict, field: str) -> None:
    resp = client.request(method, "/v1/traffic-index", **kwargs)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"].startswith(f"{field}: "), resp.json()
    assert resp.json()["details"][0]["field"] == field


def test_unknown_paths_and_methods_answer_json_errors(client: httpx.Client) -> None:
    assert client.get("/v2/traffic").json()["error"].startswith("/v2/traffic: ")
    wrong = client.delete("/v1/traffic-index")
    assert wrong.status_code == 405 and "error" in wrong.json()


def test_a_slow_provider_slows_lookups_but_not_its_health_check(feed: FeedUnderTest, client: httpx.Client) -> None:
    feed.degrade(FeedFault(mode="slow", delay_ms=600))
    started = time.perf_counter()
    assert client.get(PROBE).status_code == 200
    assert time.perf_counter() - started >= 0.6
    assert client.get("/healthz", timeout=0.5).status_code == 200  # green while the data path is slow
    assert _counter(client, "aiops_traffic_feed_request_duration_seconds_bucket", route="/v1/traffic-index",
                    le="0.5") < _counter(client, "aiops_traffic_feed_request_duration_seconds_count",
                                         route="/v1/traffic-index")


def test_a_down_provider_answers_503_and_stays_healthy(feed: FeedUnderTest, client: httpx.Client) -> None:
    before = _counter(client, "aiops_traffic_feed_requests_total", route="/v1/traffic-index", status="503")
    feed.degrade(FeedFault(mode="down"))
    resp = client.post("/v1/traffic-index", json={"routes": [{"distance_km": 1.0, "is_peak_hour": 0}]})
    assert resp.status_code == 503 and "unavailable" in resp.json()["error"]
    assert resp.headers["retry-after"]
    assert client.get("/healthz").status_code == 200
    assert _counter(client, "aiops_traffic_feed_requests_total", route="/v1/traffic-index",
                    status="503") >= before + 2  # the probe that saw it go down, and this lookup
    feed.heal()
    assert client.get(PROBE).status_code == 200


def test_a_fault_survives_a_restart_of_the_feed(tmp_path: Path) -> None:
    """Restarting the provider is no mitigation: the outage is not in the lab's hands."""
    first = start_feed(tmp_path / "state")
    try:
        first.degrade(FeedFault(mode="down"))
    finally:
        first.process.stop()
    second = start_feed(tmp_path / "state")
    try:
        assert lab_http.get(second.url + PROBE, timeout=5).status_code == 503
    finally:
        second.process.stop()


def test_the_control_api_needs_the_token_and_writes_the_fault_file(feed: FeedUnderTest, client: httpx.Client) -> None:
    fault = FeedFault(mode="slow", delay_ms=700, note="compose drill")
    with pytest.raises(remote.ControlError, match="HTTP 401"):
        remote.request(feed.url, "wrong-token-0123456789", "PUT", fault)
    assert not feed.fault_file.exists()
    applied = remote.request(feed.url, TOKEN, "PUT", fault)
    assert applied is not None and applied["delay_ms"] == 700
    assert FeedFault.model_validate_json(feed.fault_file.read_text()) == fault
    assert remote.request(feed.url, TOKEN, "DELETE") is None
    assert not feed.fault_file.exists()
    with pytest.raises(remote.ControlError, match="not reachable"):
        remote.request("http://127.0.0.1:9", TOKEN, "GET")


def test_without_a_token_the_control_api_is_off(tmp_path: Path) -> None:
    """The native lab never sets one: there the engine writes the file, and nothing else can."""
    bare = start_feed(tmp_path / "state")
    try:
        resp = httpx.put(bare.url + "/v1/control/fault", json={"mode": "down"}, timeout=5,
                         headers={"Authorization": "Bearer anything-at-all-123"})
        assert resp.status_code == 403 and "disabled" in resp.json()["error"]
        assert not bare.fault_file.exists()
    finally:
        bare.process.stop()
