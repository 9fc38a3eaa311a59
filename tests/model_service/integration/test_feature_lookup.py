"""traffic_index looked up in the real traffic feed for rows that omit it: timeout and fallback as flags.

One real feed and one real service for the module. The feed is degraded the way the drill engine does it
(its fault file), and every test restores the feed and the flags it changed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.traffic_feed.control import FeedFault
from model_service import congestion
from model_service.features import FEATURE_NAMES
from model_service.metrics import LATENCY_SLO_SECONDS
from model_service.registry import Registry
from model_service.runtime_config import RuntimeConfig
from tests.labs.traffic_feed.feed import FeedUnderTest, start_feed
from tests.model_service.integration.launcher import fresh_state, launch, logged_rows
from tests.model_service.integration.scrape import scrape, value
from tests.support.processes import ServiceUnderTest, free_port

pytestmark = pytest.mark.integration

FULL = {"distance_km": 3.2, "items_count": 2, "is_peak_hour": 1, "traffic_index": 4.0,
        "courier_experience_months": 12.0}
MOBILE = {k: v for k, v in FULL.items() if k != "traffic_index"}  # the app cannot see traffic
DEP = "traffic-feed"
LOOKUP_FLAGS = ("traffic_feed_timeout_ms", "traffic_feed_fallback", "traffic_feed", "traffic_feed_breaker_enabled",
                "traffic_feed_breaker_failures", "traffic_feed_breaker_cooldown_ms")


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedUnderTest]:
    f = start_feed(tmp_path_factory.mktemp("feed") / "state")
    try:
        yield f
    finally:
        f.process.stop()


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory, trained_registry: Path,
        feed: FeedUnderTest) -> Iterator[ServiceUnderTest]:
    s = launch(fresh_state(trained_registry, tmp_path_factory.mktemp("svc")), AIOPS_TRAFFIC_FEED_URL=feed.url,
               AIOPS_LOG_MODE="sync")  # a 200 means the row is in the log
    try:
        yield s
    finally:
        s.process.stop()


@pytest.fixture
def client(svc: ServiceUnderTest, feed: FeedUnderTest) -> Iterator[httpx.Client]:
    """A client; afterwards the feed is healthy again and the lookup flags are back at their defaults."""
    with svc.client() as c:
        yield c
        feed.heal()
        defaults = RuntimeConfig()
        for flag in LOOKUP_FLAGS:
            _set(c, svc, flag, getattr(defaults, flag))


def _set(c: httpx.Client, svc: ServiceUnderTest, flag: str, value_: Any) -> None:
    resp = c.put(f"/admin/config/{flag}", json={"value": value_, "reason": "test"}, headers=svc.admin_headers)
    assert resp.status_code == 200, resp.text


def _deps(c: httpx.Client) -> dict[str, float]:
    s = scrape(c)
    return {"ok": value(s, "aiops_dependency_requests_total", dependency=DEP, outcome="ok"),
            "timeout": value(s, "aiops_dependency_requests_total", dependency=DEP, outcome="timeout"),
            "error": value(s, "aiops_dependency_requests_total", dependency=DEP, outcome="error"),
            "fail": value(s, "aiops_dependency_fallbacks_total", dependency=DEP, fallback="fail"),
            "impute": value(s, "aiops_dependency_fallbacks_total", dependency=DEP, fallback="impute"),
            "missing": value(s, "aiops_feature_anomalies_total", feature="traffic_index", kind="missing")}


def _traffic_logged(svc: ServiceUnderTest, prediction_id: str) -> float | None:
    rows = dict(logged_rows(svc.state_dir, "id, traffic_index"))
    return rows[prediction_id]


def _expected(svc: ServiceUnderTest, traffic: float | None) -> float:
    loaded = Registry(svc.state_dir / "models").load("v1")
    row = {**FULL, "traffic_index": loaded.card.feature_ranges["traffic_index"].median if traffic is None else traffic}
    return float(loaded.estimator.predict([[row[n] for n in FEATURE_NAMES]])[0])


def test_an_omitted_traffic_index_is_looked_up_and_used(svc: ServiceUnderTest, client: httpx.Client) -> None:
    before = _deps(client)
    resp = client.post("/predict", json=MOBILE)
    assert resp.status_code == 200, resp.text
    reading = congestion.reading(FULL["distance_km"], FULL["is_peak_hour"])
    assert resp.json()["predicted_minutes"] == pytest.approx(_expected(svc, reading), abs=1e-3)
    assert _traffic_logged(svc, resp.json()["prediction_id"]) == pytest.approx(reading)
    after = _deps(client)
    assert (after["ok"] - before["ok"], after["missing"] - before["missing"]) == (1, 0)


def test_an_explicit_null_means_no_reading_and_is_never_looked_up(svc: ServiceUnderTest, client: httpx.Client) -> None:
    before = _deps(client)
    resp = client.post("/predict", json={**FULL, "traffic_index": None})
    assert resp.status_code == 200
    assert resp.json()["predicted_minutes"] == pytest.approx(_expected(svc, None), abs=1e-3)
    after = _deps(client)
    assert after["ok"] == before["ok"] and after["missing"] == before["missing"] + 1


def test_a_batch_makes_one_lookup_for_the_rows_that_need_it(svc: ServiceUnderTest, client: httpx.Client) -> None:
    rows = [MOBILE, FULL, {**MOBILE, "distance_km": 7.5, "is_peak_hour": 0}, {**FULL, "traffic_index": None}]
    before = _deps(client)
    resp = client.post("/predict", json={"instances": rows})
    assert resp.status_code == 200, resp.text
    ids = [p["prediction_id"] for p in resp.json()["predictions"]]
    logged = [_traffic_logged(svc, pid) for pid in ids]
    assert logged == [pytest.approx(congestion.reading(3.2, 1)), 4.0, pytest.approx(congestion.reading(7.5, 0)), None]
    assert _deps(client)["ok"] == before["ok"] + 1


def test_rows_that_carry_traffic_index_never_call_the_feed(feed: FeedUnderTest, svc: ServiceUnderTest,
                                                           client: httpx.Client) -> None:
    feed.degrade(FeedFault(mode="down"))
    before = _deps(client)
    assert client.post("/predict", json={"instances": [FULL, FULL]}).status_code == 200
    assert _deps(client) == before


def test_a_slow_feed_is_waited_for_up_to_the_timeout(feed: FeedUnderTest, svc: ServiceUnderTest,
                                                     client: httpx.Client) -> None:
    """The generous default: every lookup succeeds -- slowly -- and /predict is as slow as the provider."""
    feed.degrade(FeedFault(mode="slow", delay_ms=400))
    started = time.perf_counter()
    resp = client.post("/predict", json=MOBILE)
    assert resp.status_code == 200 and time.perf_counter() - started >= 0.4


def test_a_short_timeout_with_impute_serves_a_degraded_eta_without_waiting(
        feed: FeedUnderTest, svc: ServiceUnderTest, client: httpx.Client) -> None:
    feed.degrade(FeedFault(mode="slow", delay_ms=3000))
    _set(client, svc, "traffic_feed_timeout_ms", 100)
    _set(client, svc, "traffic_feed_fallback", "impute")
    before = _deps(client)
    started = time.perf_counter()
    resp = client.post("/predict", json=MOBILE)
    assert resp.status_code == 200, resp.text
    assert time.perf_counter() - started < 2.5, "the service waited for the provider instead of the timeout"
    assert resp.json()["predicted_minutes"] == pytest.approx(_expected(svc, None), abs=1e-3)  # imputed
    assert _traffic_logged(svc, resp.json()["prediction_id"]) is None
    after = _deps(client)
    assert {k: after[k] - before[k] for k in after} == {"ok": 0, "timeout": 1, "error": 0, "fail": 0, "impute": 1,
                                                        "missing": 1}


def test_fail_mode_answers_503_naming_the_dependency(feed: FeedUnderTest, svc: ServiceUnderTest,
                                                     client: httpx.Client) -> None:
    feed.degrade(FeedFault(mode="slow", delay_ms=3000))
    _set(client, svc, "traffic_feed_timeout_ms", 100)
    before = _deps(client)
    resp = client.post("/predict", json={"instances": [FULL, MOBILE]})
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["error"].startswith("traffic_index: ") and DEP in body["error"] and "100 ms" in body["error"]
    assert body["details"] == [{"field": "traffic_index", "rule": "dependency_unavailable",
                                "message": f"{DEP} did not answer within 100 ms"}]
    assert resp.headers["retry-after"] == "1"
    after = _deps(client)
    assert (after["timeout"] - before["timeout"], after["fail"] - before["fail"]) == (1, 1)


def test_a_down_feed_fails_or_falls_back_as_configured(feed: FeedUnderTest, svc: ServiceUnderTest,
                                                       client: httpx.Client) -> None:
    feed.degrade(FeedFault(mode="down"))
    before = _deps(client)
    failed = client.post("/predict", json=MOBILE)
    assert failed.status_code == 503 and f"{DEP} answered HTTP 503" in failed.json()["error"]
    _set(client, svc, "traffic_feed_fallback", "impute")
    served = client.post("/predict", json=MOBILE)
    assert served.status_code == 200
    after = _deps(client)
    assert {k: after[k] - before[k] for k in ("error", "fail", "impute")} == {"error": 2, "fail": 1, "impute": 1}


def test_the_broken_feed_flag_overrides_lookups(svc: ServiceUnderTest, client: httpx.Client) -> None:
    """traffic_feed=zero is the broken integration of the broken-upstream-feature drill: no lookups at all."""
    _set(client, svc, "traffic_feed", "zero")
    before = _deps(client)
    resp = client.post("/predict", json={"instances": [MOBILE, FULL]})
    assert resp.status_code == 200
    assert [_traffic_logged(svc, p["prediction_id"]) for p in resp.json()["predictions"]] == [0.0, 0.0]
    assert _deps(client)["ok"] == before["ok"]


@pytest.mark.parametrize(("flag", "bad", "message"), [
    ("traffic_feed_timeout_ms", 5, "greater than or equal to 10"),
    ("traffic_feed_timeout_ms", "soon", "valid integer"),
    ("traffic_feed_fallback", "retry", "'fail' or 'impute'"),
    ("traffic_feed_breaker_enabled", "maybe", "valid boolean"),
    ("traffic_feed_breaker_failures", 0, "greater than or equal to 1"),
    ("traffic_feed_breaker_cooldown_ms", 50, "greater than or equal to 100"),
    ("traffic_feed_breaker_cooldown_ms", 10**9, "less than or equal to 600000"),
])
def test_bad_flag_values_are_422s_naming_the_flag(svc: ServiceUnderTest, client: httpx.Client, flag: str,
                                                   bad: object, message: str) -> None:
    resp = client.put(f"/admin/config/{flag}", json={"value": bad}, headers=svc.admin_headers)
    assert resp.status_code == 422
    assert resp.json()["error"].startswith(f"{flag}: ") and message in resp.json()["error"], resp.json()


def test_flag_changes_are_visible_and_recorded(svc: ServiceUnderTest, client: httpx.Client) -> None:
    _set(client, svc, "traffic_feed_fallback", "impute")
    flags = client.get("/admin/config", headers=svc.admin_headers).json()
    assert flags["flags"]["traffic_feed_fallback"] == "impute"
    assert "503" in flags["descriptions"]["traffic_feed_fallback"]
    last = client.get("/admin/config/history", headers=svc.admin_headers).json()["changes"][-1]
    assert (last["flag"], last["old"], last["new"]) == ("traffic_feed_fallback", "fail", "impute")
    assert value(scrape(client), "aiops_config_flag", flag="traffic_feed_fallback") == 1.0


def test_an_unreachable_feed_is_an_error_outcome_not_a_500(tmp_path: Path, trained_registry: Path) -> None:
    lonely = launch(fresh_state(trained_registry, tmp_path), AIOPS_TRAFFIC_FEED_URL=f"http://127.0.0.1:{free_port()}")
    try:
        with lonely.client() as c:
            resp = c.post("/predict", json=MOBILE)
            assert resp.status_code == 503, resp.text
            assert f"{DEP} is unreachable (ConnectError)" in resp.json()["error"]
            assert value(scrape(c), "aiops_dependency_requests_total", dependency=DEP, outcome="error") == 1
    finally:
        lonely.process.stop()


# --- the circuit breaker (flags traffic_feed_breaker_*) ----------------------------------------------------------


def _breaker(c: httpx.Client) -> dict[str, float]:
    s = scrape(c)
    out = {state: value(s, "aiops_dependency_circuit_breaker_state", dependency=DEP, state=state)
           for state in ("closed", "open", "half_open")}
    out["short_circuits"] = value(s, "aiops_dependency_short_circuits_total", dependency=DEP)
    out["opened"] = value(s, "aiops_dependency_circuit_breaker_transitions_total", dependency=DEP, state="open")
    out["closed_again"] = value(s, "aiops_dependency_circuit_breaker_transitions_total", dependency=DEP,
                                state="closed")
    return out


def _p99_of_a_burst(c: httpx.Client, n: int = 200) -> tuple[float, list[int]]:
    """Client-side p99 latency of ``n`` sequential mobile requests, and their status codes."""
    took, codes = [], []
    for _ in range(n):
        started = time.perf_counter()
        resp = c.post("/predict", json=MOBILE)
        took.append(time.perf_counter() - started)
        codes.append(resp.status_code)
    return sorted(took)[int(0.99 * n) - 1], codes


def test_a_hung_feed_opens_the_breaker_and_latency_is_back_under_the_slo(
        feed: FeedUnderTest, svc: ServiceUnderTest, client: httpx.Client) -> None:
    """The SRE's finding: impute alone still costs every mobile request the 2 s timeout. With the breaker the
    service stops calling the hung provider after a few timeouts, and a probe closes it once it is back."""
    feed.degrade(FeedFault(mode="slow", delay_ms=4000))  # hung: far beyond the 2000 ms default timeout
    _set(client, svc, "traffic_feed_fallback", "impute")
    _set(client, svc, "traffic_feed_breaker_cooldown_ms", 1000)
    _set(client, svc, "traffic_feed_breaker_enabled", True)
    started = time.monotonic()
    threshold = RuntimeConfig().traffic_feed_breaker_failures

    def one_round() -> bool:  # concurrent mobile requests: each times out after 2 s until the breaker opens
        with ThreadPoolExecutor(threshold) as pool:
            codes = list(pool.map(lambda _: lab_http.post(svc.url + "/predict", json=MOBILE, timeout=10).status_code,
                                  range(threshold)))
        assert codes == [200] * threshold, codes  # impute: degraded, never failed
        return _breaker(client)["open"] == 1.0

    wait_until(one_round, timeout=30, interval=0, what="the breaker to open")
    before = _breaker(client)
    p99, codes = _p99_of_a_burst(client)
    assert time.monotonic() - started < 30
    assert codes == [200] * 200
    assert p99 < LATENCY_SLO_SECONDS, f"client p99 {p99 * 1000:.0f} ms with the breaker open"
    after = _breaker(client)
    assert after["short_circuits"] - before["short_circuits"] == 200  # the probes ran in the background
    assert after["opened"] >= 1 and after["closed"] == 0.0 and after["open"] + after["half_open"] == 1.0

    feed.heal()

    def closed() -> bool:
        client.post("/predict", json=MOBILE)  # after the cool-down a request launches the probe
        return _breaker(client)["closed"] == 1.0

    wait_until(closed, timeout=30, what="a half-open probe to close the breaker")
    assert _breaker(client)["closed_again"] > before["closed_again"]
    resp = client.post("/predict", json=MOBILE)
    assert _traffic_logged(svc, resp.json()["prediction_id"]) == pytest.approx(
        congestion.reading(FULL["distance_km"], FULL["is_peak_hour"]))  # looked up again


def test_an_open_breaker_with_fallback_fail_answers_503_at_once(
        feed: FeedUnderTest, svc: ServiceUnderTest, client: httpx.Client) -> None:
    feed.degrade(FeedFault(mode="down"))
    _set(client, svc, "traffic_feed_breaker_failures", 2)
    _set(client, svc, "traffic_feed_breaker_cooldown_ms", 60_000)
    _set(client, svc, "traffic_feed_breaker_enabled", True)
    before = _deps(client)
    for _ in range(2):
        assert f"{DEP} answered HTTP 503" in client.post("/predict", json=MOBILE).json()["error"]
    resp = client.post("/predict", json=MOBILE)
    assert resp.status_code == 503
    assert resp.json()["details"] == [{"field": "traffic_index", "rule": "dependency_unavailable", "message":
                                       f"{DEP} is not called: its circuit breaker opened after 2 consecutive "
                                       "failed lookups"}]
    assert 55 <= int(resp.headers["retry-after"]) <= 60  # the rest of the cool-down
    after = _deps(client)
    assert (after["error"] - before["error"], after["fail"] - before["fail"]) == (2, 3)  # no third call
    # Switched off, the breaker is forgotten at once (drill stop does this too) and the feed is called again.
    _set(client, svc, "traffic_feed_breaker_enabled", False)
    assert _breaker(client)["closed"] == 1.0
    assert f"{DEP} answered HTTP 503" in client.post("/predict", json=MOBILE).json()["error"]


def test_with_the_breaker_off_every_request_still_waits_for_the_timeout(
        feed: FeedUnderTest, svc: ServiceUnderTest, client: httpx.Client) -> None:
    """Off (the default) nothing changes: a hung provider costs each request the whole timeout."""
    feed.degrade(FeedFault(mode="slow", delay_ms=1500))
    _set(client, svc, "traffic_feed_timeout_ms", 300)
    _set(client, svc, "traffic_feed_fallback", "impute")
    before, deps_before = _breaker(client), _deps(client)
    for _ in range(8):  # more consecutive failures than the default threshold
        started = time.perf_counter()
        assert client.post("/predict", json=MOBILE).status_code == 200
        assert time.perf_counter() - started >= 0.3
    after = _breaker(client)
    assert (after["closed"], after["short_circuits"]) == (1.0, before["short_circuits"])
    assert _deps(client)["timeout"] - deps_before["timeout"] == 8
