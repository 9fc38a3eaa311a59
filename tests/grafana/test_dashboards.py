"""The Grafana dashboards: well-formed JSON, equal to the generator's output, and every panel query answered
by a real Prometheus scraping the real service (and pager) after real traffic.

No Grafana server is installable here, so the test does what Grafana would: substitute the template
variables and run each panel's PromQL against Prometheus. On the same Prometheus it then draws every
dashboard with ``aiops-lab dashboard render``'s code and opens the pages in Chromium. That part is a job of
the drill pool (``dashboards_job.py``); the checks on the files are here.
"""

from __future__ import annotations

import re

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from aiops_core import yaml_text
from labs.pager.metrics import all_metric_names as pager_metric_names
from model_service.features import FEATURES
from model_service.metrics import register_bulk_collectors
from monitoring.drift.metrics import REGISTRY as DRIFT_REGISTRY
from tests.grafana.dashboards_job import JOBS
from tests.grafana.panels import (
    ALLOWED_EMPTY,
    ALLOWED_EMPTY_DRAWN,
    COUNTER_SERIES,
    DASHBOARDS,
    DATASOURCE_YML,
    METRIC,
    PROVIDER_YML,
    RATE_FUNCTIONS,
    all_panels,
    boards,
    load_generator,
    provisioned_uid,
)
from tests.labs.drills.jobs import DrillPool

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


@pytest.mark.integration
@pytest.mark.pool(JOBS[0].name)
def test_every_panel_query_returns_data_from_a_real_prometheus(drill_pool: DrillPool) -> None:
    """Played beside the drill pool's labs (``dashboards_job.py``)."""
    print(drill_pool.outcome(JOBS[0].name))
