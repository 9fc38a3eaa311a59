"""The Grafana dashboards: well-formed JSON, equal to the generator's output, and every panel query answered
by a real Prometheus scraping the real service (and pager) after real traffic.

No Grafana server is installable here, so the test does what Grafana would: substitute the template
variables and run each panel's PromQL against Prometheus. On the same Prometheus it then draws every
dashboard with ``aiops-lab dashboard render``'s code and opens the pages in Chromium.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from aiops_core import http as lab_http
from aiops_core import yaml_text
from aiops_core.paths import REPO_ROOT
from aiops_core.polling import wait_until
from labs.dashboards.render import names as dashboard_names
from labs.dashboards.render import render as render_dashboard
from labs.pager.metrics import all_metric_names as pager_metric_names
from model_service import generator
from model_service.features import FEATURES
from model_service.metrics import register_bulk_collectors
from monitoring.drift.metrics import REGISTRY as DRIFT_REGISTRY
from tests.labs.pager.test_pager_api import PagerUnderTest, start_pager
from tests.labs.pager.test_pager_logic import alert, payload
from tests.support import browser as browser_support
from tests.support.http_server import directory_handler, serving
from tests.support.processes import ServiceUnderTest
from tests.support.prometheus import TestPrometheus, running_prometheus
from tests.support.speed import scaled

GRAFANA = REPO_ROOT / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE_YML = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
PROVIDER_YML = GRAFANA / "provisioning" / "dashboards" / "aiops-lab.yml"
COUNTER_SERIES = re.compile(r"\b(aiops_[a-z0-9_]+?(?:_total|_bucket|_count|_sum))\b")
METRIC = re.compile(r"\b(aiops_[a-z0-9_]+|ALERTS)\b")
RATE_FUNCTIONS = {"rate", "irate", "increase"}

# Panels that are allowed to return no data in the integration test, and why.
ALLOWED_EMPTY: dict[tuple[str, str], str] = {
    **{("aiops-model", title): "fed by the drift monitor, which this test does not run"
       for title in ("Dataset drift share", "Quality from the drift monitor", "Feature drift score",
                     "Dataset and prediction drift", "Drift monitor last run")},
    ("aiops-incident", "Firing alerts (details)"): "ALERTS needs alerting rules; the rules have their own tests",
}
ALLOWED_EMPTY_ANNOTATIONS = {"Firing alerts": "ALERTS needs alerting rules; the rules have their own tests"}
# Panels whose queries answer (so the check above passes) but which draw nothing: every value is NaN.
ALLOWED_EMPTY_DRAWN: dict[tuple[str, str], str] = {
    **ALLOWED_EMPTY,
    ("aiops-service", "Dependency latency p50 / p99"): "a quantile of no calls is NaN: no request here omits "
                                                       "traffic_index, so the service calls no dependency",
}


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_dashboards", GRAFANA / "build_dashboards.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def boards() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in DASHBOARDS]


def all_panels() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for board in boards():
        for panel in board["panels"]:
            yield board, panel


def provisioned_uid() -> str:
    [ds] = yaml_text.load(DATASOURCE_YML.read_text())["datasources"]
    return ds["uid"]


# -- static checks ------------------------------------------------------------------------------------


def test_provisioning_yaml_is_valid() -> None:
    ds_doc = yaml_text.load(DATASOURCE_YML.read_text())
    assert ds_doc["apiVersion"] == 1
    [ds] = ds_doc["datasources"]
    assert (ds["type"], ds["uid"], ds["url"], ds["isDefault"]) == ("prometheus", "prometheus",
                                                                  "http://prometheus:9090", True)
    prov = yaml_text.load(PROVIDER_YML.read_text())
    assert prov["apiVersion"] == 1
    [provider] = prov["providers"]
    assert (provider["type"], provider["folder"], provider["options"]["path"]) == (
        "file", "aiops-lab", "/var/lib/grafana/dashboards")


def test_committed_json_is_the_generator_output() -> None:
    built = load_generator().build_all()
    assert sorted(built) == [p.name for p in DASHBOARDS], "a dashboard file has no generator (or vice versa)"
    for path in DASHBOARDS:
        assert path.read_text() == built[path.name], f"{path.name} is stale; run: python grafana/build_dashboards.py"


def test_dashboard_fields() -> None:
    uids = [b["uid"] for b in boards()]
    assert len(uids) >= 3 and len(set(uids)) == len(uids)
    for board in boards():
        assert board["title"] and board["tags"] and board["schemaVersion"] >= 36
        assert board["refresh"] == "10s" and board["time"]["from"].startswith("now-")
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        for var in variables.values():
            if var["type"] == "query":
                assert var["datasource"]["uid"] == provisioned_uid()
                assert re.fullmatch(r"label_values\(\w+, \w+\)", var["definition"]), var["definition"]
        annotations = board["annotations"]["list"]
        assert any(a.get("expr") for a in annotations), f"{board['uid']}: no change annotations"
        for ann in annotations:
            if "expr" in ann:
                assert ann["datasource"] == {"type": "prometheus", "uid": provisioned_uid()}


def test_every_panel_has_the_required_fields() -> None:
    for board, panel in all_panels():
        where = f"{board['uid']}/{panel.get('title')}"
        assert panel["title"] and panel["description"], where
        assert panel["fieldConfig"]["defaults"]["unit"], where
        assert panel["datasource"] == {"type": "prometheus", "uid": provisioned_uid()}, where
        assert panel["targets"], where
        refs = [t["refId"] for t in panel["targets"]]
        assert len(set(refs)) == len(refs), where
        for t in panel["targets"]:
            assert t["expr"].strip() and t["datasource"]["uid"] == provisioned_uid(), where


def test_panel_ids_and_titles_are_unique_and_the_grid_does_not_overlap() -> None:
    for board in boards():
        panels = board["panels"]
        assert len({p["id"] for p in panels}) == len(panels), board["uid"]
        assert len({p["title"] for p in panels}) == len(panels), board["uid"]
        cells: dict[tuple[int, int], str] = {}
        for p in panels:
            g = p["gridPos"]
            assert g["x"] >= 0 and g["w"] > 0 and g["h"] > 0 and g["x"] + g["w"] <= 24, p["title"]
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, f"{board['uid']}: {p['title']!r} overlaps {cells[(x, y)]!r}"
                    cells[(x, y)] = p["title"]


def _enclosing_function(expr: str, index: int) -> str:
    depth = 0
    for i in range(index - 1, -1, -1):
        if expr[i] == ")":
            depth += 1
        elif expr[i] == "(":
            if depth == 0:
                return re.search(r"(\w*)\s*$", expr[:i]).group(1)  # type: ignore[union-attr]
            depth -= 1
    return ""


def test_counters_are_only_used_through_rate_or_increase() -> None:
    for board, panel in all_panels():
        for t in panel["targets"]:
            for match in COUNTER_SERIES.finditer(t["expr"]):
                fn = _enclosing_function(t["expr"], match.start())
                assert fn in RATE_FUNCTIONS, f"{board['uid']}/{panel['title']}: {match.group(1)} inside {fn or '()'}"


def series_names(registry: CollectorRegistry) -> set[str]:
    """Every series name a registry can export, including labelled families that have no child yet
    (model_service.metrics.all_metric_names() only sees series that already have samples)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum")}
    names: set[str] = set()
    for family in registry.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


def test_every_metric_a_dashboard_names_is_exported() -> None:
    register_bulk_collectors()  # the service registers its bulk histograms at start-up
    exported = series_names(REGISTRY) | series_names(DRIFT_REGISTRY) | pager_metric_names() | {"ALERTS"}
    for board in boards():
        exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
        exprs += [a["expr"] for a in board["annotations"]["list"] if "expr" in a]
        exprs += [v["definition"] for v in board["templating"]["list"] if v["type"] == "query"]
        for expr in exprs:
            for name in METRIC.findall(expr):
                assert name in exported, f"{board['uid']}: {name} is not exported by any lab component"


def test_model_dashboard_has_a_panel_per_schema_feature() -> None:
    [model] = [b for b in boards() if b["uid"] == "aiops-model"]
    exprs = [" ".join(t["expr"] for t in p["targets"]) for p in model["panels"]]
    for spec in FEATURES:
        assert sum(spec.metric_name + "_" in e for e in exprs) == 1, spec.name


def test_allowed_empty_entries_name_real_panels() -> None:
    titles = {(b["uid"], p["title"]) for b, p in all_panels()}
    assert set(ALLOWED_EMPTY) <= titles and set(ALLOWED_EMPTY_DRAWN) <= titles


# -- integration: the queries against a real Prometheus ------------------------------------------------


def substitute(expr: str, route: str, version: str) -> str:
    return expr.replace("$__rate_interval", "1m").replace("$route", route).replace("$model_version", version)


@pytest.fixture
def pager(tmp_path: Path) -> Iterator[PagerUnderTest]:
    p = start_pager(tmp_path / "pager-state")
    yield p
    p.process.stop()


@pytest.fixture
def prometheus(tmp_path: Path, service: ServiceUnderTest, pager: PagerUnderTest) -> Iterator[TestPrometheus]:
    with running_prometheus(tmp_path, {"model-service": f"127.0.0.1:{service.port}",
                                       "pager": f"127.0.0.1:{pager.port}"}) as prom:
        yield prom


def send_traffic(service: ServiceUnderTest, pager: PagerUnderTest, prom: TestPrometheus) -> None:
    """A short, bounded burst touching every signal the panels show, in phases that each wait for a scrape.

    rate() cannot see the first increment of a series that appears with it (a new status code, a new
    model version), so each kind of traffic is sent both before and after Prometheus has seen it.
    """
    frame = generator.generate(120, seed=11)
    records, truth = generator.records(frame), frame[generator.TARGET].tolist()
    admin = service.admin_headers
    rows = 0  # rows predicted successfully

    def scraped(expr: str, what: str) -> None:
        wait_until(lambda: prom.vector(expr), timeout=scaled(20), what=f"prometheus to scrape {what}")

    def predict_and_feedback(c: httpx.Client, first: int, count: int) -> int:
        for i in range(first, first + count):
            r = c.post("/predict", json=records[i])
            assert r.status_code == 200, r.text
            assert c.post("/feedback", json={"prediction_id": r.json()["prediction_id"],
                                             "actual": truth[i]}).status_code == 200
        assert c.post("/predict", json={"instances": records[first:first + 20]}).status_code == 200
        for bad in ({**records[0], "distance_km": -1}, {**records[0], "items_count": "two"}, {"instances": []},
                    {k: v for k, v in records[0].items() if k != "courier_experience_months"}):
            assert c.post("/predict", json=bad).status_code == 422
        assert c.post("/feedback", json={"prediction_id": "no-such-id", "actual": 10}).status_code == 404
        return count + 20

    with service.client() as c:
        for phase in range(2):
            rows += predict_and_feedback(c, phase * 40, 40)
            scraped(f"sum(aiops_predictions_total) == {rows}", f"phase {phase} of the normal traffic")
        # A config change that causes 5xx (sent across two scrapes), then its revert.
        assert c.put("/admin/config/error_ratio", json={"value": 0.5, "reason": "dashboard test"},
                     headers=admin).status_code == 200
        errors = 0
        for phase in range(2):
            statuses = [c.post("/predict", json=rec).status_code for rec in records[:30]]
            errors += statuses.count(500)
            rows += statuses.count(200)
            assert errors > 0
            scraped(f'sum(aiops_http_requests_total{{status="500"}}) == {errors}', f"phase {phase} of the errors")
        assert c.put("/admin/config/error_ratio", json={"value": 0.0, "reason": "revert"},
                     headers=admin).status_code == 200
        # A deploy and its rollback.
        assert c.post("/admin/model/deploy", json={"version": "v2"}, params={"force": "true"},
                      headers=admin).status_code == 200
        for _ in range(2):
            assert c.post("/predict", json={"instances": records[:10]}).status_code == 200
            rows += 10
            scraped(f"sum(aiops_predictions_total) == {rows}", "predictions by v2")
        assert c.post("/admin/model/rollback", headers=admin).status_code == 200
        rows += predict_and_feedback(c, 80, 20)
    assert pager.post("/alerts", payload(alert("DashboardTestAlert"))).status_code == 200
    assert pager.post("/heartbeat").status_code == 200
    assert pager.post("/drill", {"drill": "dashboard-test"}).status_code == 200
    scraped(f"sum(aiops_predictions_total) == {rows}", "the whole burst")
    scraped('aiops_pager_drill_info{drill="dashboard-test"}', "the pager")


@pytest.mark.integration
def test_every_panel_query_returns_data_from_a_real_prometheus(
        service: ServiceUnderTest, pager: PagerUnderTest, prometheus: TestPrometheus, tmp_path: Path) -> None:
    started = time.time()
    send_traffic(service, pager, prometheus)

    targets = [(b["uid"], p["title"], t["refId"], t["expr"]) for b, p in all_panels() for t in p["targets"]]
    empty: list[str] = []

    def all_answered() -> bool:
        empty.clear()
        for uid, title, ref, expr in targets:
            has_vars = "$route" in expr or "$model_version" in expr
            for route, version in ((".*", ".*"), ("/predict", "v1"))[:2 if has_vars else 1]:
                result = prometheus.vector(substitute(expr, route, version))  # raises on a PromQL error
                if not result and (uid, title) not in ALLOWED_EMPTY:
                    empty.append(f"{uid} / {title} / {ref} (route={route}, model_version={version}): {expr}")
        return not empty

    try:
        wait_until(all_answered, timeout=30, interval=1.0, what="every panel to return data")
    except AssertionError:
        pytest.fail("panels without data:\n" + "\n".join(empty))

    def value(expr: str, **match: str) -> float:
        series = [v for labels, v in prometheus.vector(substitute(expr, ".*", ".*"))
                  if all(labels.get(k) == want for k, want in match.items())]
        assert series, f"no series {match} in {expr}"
        return series[0]

    by_title = {(b["uid"], p["title"]): p["targets"] for b, p in all_panels()}
    error_by_route = by_title[("aiops-service", "5xx error ratio by route")][0]["expr"]
    assert value(error_by_route, route="/predict") > 0, "the error_ratio flag produced 5xx"
    assert value(error_by_route, route="/feedback") == 0, "no 5xx on /feedback reads as 0, not 'No data'"
    fields = {labels["field"] for labels, v in prometheus.vector(substitute(
        by_title[("aiops-service", "Validation errors by field")][0]["expr"], ".*", ".*")) if v > 0}
    assert {"distance_km", "items_count"} <= fields
    by_version = by_title[("aiops-model", "Predictions / s by model version")][0]["expr"]
    assert value(by_version, model_version="v1") > 0 and value(by_version, model_version="v2") > 0
    assert value(by_title[("aiops-model", "MAE from feedback (5m window)")][0]["expr"], model_version="v1") > 0
    assert value(by_title[("aiops-incident", "Drill running")][0]["expr"], drill="dashboard-test") == 1

    for board in boards():
        for ann in board["annotations"]["list"]:
            if "expr" in ann:
                # Steps fall at start + k s; end one step past now, or a sample scraped in the last second
                # (the drill marker, set just before) falls after the last step and the range reads empty.
                result = prometheus.matrix(ann["expr"], started - 5, time.time() + 1.0, 1.0)
                assert result or ann["name"] in ALLOWED_EMPTY_ANNOTATIONS, f"{board['uid']}: {ann['name']} empty"
        for var in board["templating"]["list"]:
            if var["type"] == "query":
                metric, label = re.fullmatch(r"label_values\((\w+), (\w+)\)", var["definition"]).groups()  # type: ignore[union-attr]
                values = lab_http.get(f"{prometheus.url}/api/v1/label/{label}/values",
                                      params={"match[]": metric}, timeout=10).json()["data"]
                assert {"/predict", "v1"} & set(values), f"{var['name']}: {values}"

    # The same panels drawn without Grafana (aiops-lab dashboard render), from the same Prometheus.
    check_rendered_dashboards(prometheus, tmp_path / "rendered", since_s=time.time() - started + 30)


def check_rendered_dashboards(prometheus: TestPrometheus, out: Path, since_s: float) -> None:
    """Every dashboard renders; each panel draws a non-empty series or is an expected-empty one, whose page
    says why; the page loads in Chromium asking nothing of any host but loopback, with no console error."""
    rendered = [render_dashboard(name, prometheus, since_s, out) for name in dashboard_names()]
    assert [r.name for r in rendered] == [p.stem for p in DASHBOARDS]
    for result in rendered:
        assert len(result.panels) == len(next(b for b in boards() if b["uid"] == result.uid)["panels"])
        unexpected = {t: r for t, r in result.empty.items() if (result.uid, t) not in ALLOWED_EMPTY_DRAWN}
        assert not unexpected, f"{result.uid}: panels drew nothing: {unexpected}"
        html = unescape(result.html.read_text())
        for title, reason in result.empty.items():
            assert f"{title}: {reason}" in html, f"{result.uid}/{title}: the page does not say why it is empty"
    with browser_support.chromium() as browser, serving(directory_handler(out)) as base:
        for result in rendered:
            page = browser.load(f"{base}/{result.html.name}", wait_for="figure img")
            assert page.offsite_requests() == [], f"{result.name}: requests left 127.0.0.1"
            assert page.console_errors == [], f"{result.name}: {page.console_errors}"
            images = page.select("figure img")
            assert len(images) == len(result.panels)
            assert all(int(img.get_property("naturalWidth")) > 100 for img in images), "an image did not decode"
            drawn = [int(f.get_attribute("data-series")) for f in page.select("figure")]
            assert drawn == [p.series for p in result.panels]
