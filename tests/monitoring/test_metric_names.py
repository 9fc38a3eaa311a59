"""Every metric a rule, a runbook query or a dashboard names is one the lab actually exports.

Sources of truth: model_service.metrics and monitoring.drift.metrics (and the pager's metric names, which
the incident dashboard uses), the recording rules, and the standard names Prometheus, Alertmanager and the
Python client export themselves. A typo in any expression fails here (the negative case proves it).
"""

from __future__ import annotations

import json
import re

import pytest

from model_service import metrics as service_metrics
from monitoring.drift import metrics as drift_metrics
from tests.monitoring import catalog
from tests.monitoring.promql_names import metric_names

STANDARD = re.compile(r"^(?:up|scrape_\w+|ALERTS|ALERTS_FOR_STATE|process_\w+|python_\w+|go_\w+|promhttp_\w+|"
                      r"prometheus_\w+|alertmanager_\w+|net_conntrack_\w+)$")


def _pager_names() -> set[str]:
    try:
        from labs.pager import metrics as pager_metrics
    except ImportError:  # the pager is optional in a partial checkout
        return set()
    return {v for k, v in vars(pager_metrics).items() if k.isupper() and isinstance(v, str)
            and v.startswith("aiops_pager_")}


KNOWN = (service_metrics.all_metric_names() | drift_metrics.all_metric_names() | catalog.recording_names()
         | _pager_names())


def unknown_names(expr: str) -> set[str]:
    return {n for n in metric_names(expr) if n not in KNOWN and not STANDARD.match(n)}


def _dashboard_exprs() -> list[tuple[str, str]]:
    def walk(node: object):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "expr" and isinstance(value, str):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    if not catalog.DASHBOARDS_DIR.is_dir():
        return []
    return [(p.name, e) for p in sorted(catalog.DASHBOARDS_DIR.glob("*.json")) for e in walk(json.loads(p.read_text()))]


def test_the_name_extractor_sees_metrics_and_ignores_functions_labels_and_keywords() -> None:
    expr = ('histogram_quantile(0.99, sum by (le, route) (rate(aiops_http_request_duration_seconds_bucket'
            '{route=~"$route", le="0.25"}[$__rate_interval]))) > on () group_left slo:objective:ratio offset 5m '
            'and {__name__="aiops_model_info"} unless vector(1) # trailing comment mentions fake_metric')
    assert metric_names(expr) == {"aiops_http_request_duration_seconds_bucket", "slo:objective:ratio",
                                  "aiops_model_info"}


@pytest.mark.parametrize("expr", [
    'sum(rate(aiops_http_request_total{route="/predict"}[5m]))',  # missing "s" in requests
    "slo:burn_rate:ratio_rate4h > 14.4",  # a window that is not recorded
    "aiops_drift_dataset_drift > 0",  # not the exported name (…_drifted / …_drift_share)
])
def test_a_typo_is_caught(expr: str) -> None:
    assert unknown_names(expr), f"{expr!r} should reference an unknown metric"


@pytest.mark.parametrize("rule", catalog.rules(), ids=lambda r: f"{r.file}:{r.name}")
def test_rule_expressions_use_exported_metrics(rule: catalog.Rule) -> None:
    assert not unknown_names(rule.expr)


@pytest.mark.parametrize(("runbook", "query"), catalog.runbook_promql(), ids=lambda v: str(v)[:60])
def test_runbook_queries_use_exported_metrics(runbook: str, query: str) -> None:
    assert not unknown_names(query)


def test_dashboard_queries_use_exported_metrics() -> None:
    bad = {(name, expr): sorted(unknown_names(expr)) for name, expr in _dashboard_exprs() if unknown_names(expr)}
    assert not bad


def test_every_alert_reads_a_metric() -> None:
    for rule in catalog.alerts():
        if rule.name != "Watchdog":
            assert metric_names(rule.expr), rule.name
