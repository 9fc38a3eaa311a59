"""The Grafana dashboards as files, and what the integration check allows to be empty (shared by
``test_dashboards.py`` and ``dashboards_job.py``)."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from aiops_core import yaml_text
from aiops_core.paths import REPO_ROOT

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




def substitute(expr: str, route: str, version: str) -> str:
    """A panel's query as Grafana sends it, its template variables filled in."""
    return expr.replace("$__rate_interval", "1m").replace("$route", route).replace("$model_version", version)
