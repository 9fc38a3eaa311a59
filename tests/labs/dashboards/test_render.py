"""The renderer's reading of a dashboard JSON: which file a name means, legends, thresholds, and Grafana's
variables as Grafana expands them for a range query. (Drawing on real data: tests/grafana.)"""

from __future__ import annotations

import pytest

from aiops_core.errors import LabError
from labs.dashboards import render
from labs.dashboards.variables import expand, variable_values


def test_a_dashboard_is_found_by_file_name_or_uid() -> None:
    assert render.load("service")[0] == render.load("aiops-service")[0] == "service"
    with pytest.raises(LabError, match="choose one of: incident, model, service"):
        render.load("grafana")


@pytest.mark.parametrize(("fmt", "labels", "expected"), [
    ("p99 {{route}}", {"route": "/predict"}, "p99 /predict"),
    ("{{ feature }}", {"feature": "distance_km"}, "distance_km"),
    ("__auto", {"__name__": "ALERTS", "alertname": "X"}, 'ALERTS{alertname="X"}'),
    ("", {}, "vector(1)"),
])
def test_legends_read_like_grafana(fmt: str, labels: dict[str, str], expected: str) -> None:
    assert render.legend(fmt, labels, "vector(1)") == expected


def test_thresholds_skip_the_base_step() -> None:
    panel = {"fieldConfig": {"defaults": {"thresholds": {"steps": [
        {"color": "green", "value": None}, {"color": "orange", "value": 0.1}, {"color": "red", "value": 0.25}]}}}}
    assert render.thresholds(panel) == [(0.1, "orange"), (0.25, "red")]
    assert render.thresholds({}) == []


def test_every_panel_query_expands_to_plain_promql() -> None:
    """No ``$`` is left for Prometheus to refuse: every variable a dashboard uses is one it defines."""
    for name in render.names():
        model = render.load(name)[1]
        values = variable_values(model)
        for panel in model["panels"]:
            for target in panel["targets"]:
                expr, unknown = expand(target["expr"], values)
                assert not unknown and "$" not in expr, f"{name}/{panel['title']}: {target['expr']}"
    assert expand('rate(x{route=~"$route"}[$__rate_interval])', {"route": ".*", "__rate_interval": "1m"})[0] == \
        'rate(x{route=~".*"}[1m])'
