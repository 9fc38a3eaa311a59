"""The dashboard model rules and variable expansion module 04 relies on, on the lab's real dashboards."""

from __future__ import annotations

import json

from aiops_core import paths
from labs.curriculum.checks.grafana_model import expand, problems, variable_values


def _service() -> dict:
    return json.loads((paths.REPO_ROOT / "grafana" / "dashboards" / "service.json").read_text())


def test_the_shipped_dashboards_are_valid_and_every_query_expands() -> None:
    for path in sorted((paths.REPO_ROOT / "grafana" / "dashboards").glob("*.json")):
        model = json.loads(path.read_text())
        assert problems(model) == [], path.name
        values = variable_values(model)
        for panel in model["panels"]:
            for target in panel.get("targets", []):
                expr, unknown = expand(target["expr"], values)
                assert not unknown and "$" not in expr, (path.name, target["expr"])


def test_structure_problems_are_named() -> None:
    model = _service()
    first, second = model["panels"][0], model["panels"][1]
    second["id"] = first["id"]
    second["gridPos"] = dict(first["gridPos"])
    del model["panels"][2]["title"]
    found = " | ".join(problems(model))
    assert "reuses id" in found and "overlap" in found and "needs a 'title'" in found
    assert problems([]) == ["the top level must be a JSON object (the dashboard), found list"]
    assert "'schemaVersion' must be an integer" in " ".join(problems({**_service(), "schemaVersion": "39"}))
    wide = _service()
    wide["panels"][0]["gridPos"]["w"] = 30
    assert "does not fit the 24-column grid" in " ".join(problems(wide))


def test_variable_syntaxes_expand_like_grafana() -> None:
    values = variable_values(_service())
    assert values["route"] == ".*" and values["__rate_interval"] == "1m"
    expr, unknown = expand('rate(x{route=~"${route:regex}"}[$__rate_interval]) + y{r=~"[[route]]"} + $nope', values)
    assert expr == 'rate(x{route=~".*"}[1m]) + y{r=~".*"} + $nope' and unknown == ["nope"]
