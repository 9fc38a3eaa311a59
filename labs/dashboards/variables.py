"""Grafana's template variables, expanded the way Grafana does before it sends a panel's query.

One implementation for everything that evaluates a dashboard's PromQL without Grafana: the rendered
dashboards (``labs.dashboards.render``) and the curriculum's dashboard check
(``labs.curriculum.checks.grafana_model``). Handles ``$__rate_interval``, ``$route``, ``${var:regex}`` and
``[[var]]``; an "All" selection becomes the variable's ``allValue`` (or ``.*``).
"""

from __future__ import annotations

import re
from typing import Any

# Grafana computes $__rate_interval as max($__interval + scrape interval, 4 x scrape interval); with the
# lab's 2 s scrapes and a dashboard's default resolution, one minute is what a learner sees.
BUILTINS = {"__rate_interval": "1m", "__interval": "1m", "__range": "5m", "__range_s": "300",
            "__interval_ms": "60000", "__range_ms": "300000"}
_VAR = re.compile(r"\$\{(\w+)(?::[\w]+)?\}|\$(\w+)|\[\[(\w+)(?::[\w]+)?\]\]")


def variable_values(model: dict[str, Any]) -> dict[str, str]:
    """What each dashboard variable expands to: 'All' -> its allValue (or .*), else the current value."""
    values = dict(BUILTINS)
    for var in (model.get("templating") or {}).get("list") or []:
        if not isinstance(var, dict) or not var.get("name"):
            continue
        current = (var.get("current") or {}).get("value")
        if isinstance(current, list):
            current = current[0] if len(current) == 1 else "|".join(map(str, current))
        if var.get("type") == "datasource":
            current = "prometheus"
        elif current in (None, "", "$__all"):
            current = var.get("allValue") or ".*"
        values[var["name"]] = str(current)
    return values


def expand(expr: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """``expr`` with variables replaced; also the names it used that the dashboard does not define."""
    unknown: list[str] = []

    def sub(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        if name in values:
            return values[name]
        unknown.append(name)
        return match.group(0)

    return _VAR.sub(sub, expr), unknown
