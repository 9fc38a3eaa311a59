"""Module 04, dashboards: add a panel to a copy of a lab dashboard; the panel must show live data.

``lab start`` copies the lab's service dashboard (``grafana/dashboards/service.json``) into the workspace
as ``dashboard.json``. The check validates the JSON model as Grafana would, then expands the new panel's
query and runs it on the lab's Prometheus: it must return per-model-version series whose total matches
the lab's measured prediction rate (so a raw counter, a wrong metric or a missing ``by`` fails).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from aiops_core import paths
from labs.curriculum import live
from labs.curriculum.catalogue import Exercise
from labs.curriculum.checks.grafana_model import all_panels, expand, problems, variable_values
from labs.curriculum.context import Context
from labs.curriculum.steps import Fail, close

DASHBOARD = "dashboard.json"
SOURCE = "service.json"
PANEL_TITLE = "Predictions per second by model version"
REFERENCE = "sum by (model_version) (rate(aiops_predictions_total[1m]))"
RATE_TOLERANCE = 0.35  # the panel may use another window ($__rate_interval, 30s, 2m): same order, not same value


def dashboards_dir() -> Path:
    return paths.REPO_ROOT / "grafana" / "dashboards"


def on_start(ctx: Context, force: bool) -> list[str]:
    target = ctx.file(DASHBOARD)
    if target.exists() and not force:
        return [f"  kept your {DASHBOARD}"]
    sources = sorted(dashboards_dir().glob("*.json"))
    source = next((p for p in sources if p.name == SOURCE), sources[0] if sources else None)
    if source is None:
        return [f"  no dashboards in {dashboards_dir()} yet: copy any Grafana dashboard JSON to {target}"]
    shutil.copyfile(source, target)
    return [f"  created {DASHBOARD} (a copy of {source.relative_to(paths.REPO_ROOT)})"]


def _load(ctx: Context) -> dict[str, Any]:
    path = ctx.file(DASHBOARD)
    if not path.is_file():
        raise Fail("dashboard.json is valid JSON", f"{path} does not exist",
                   f"run: aiops-lab lab start {ctx.module_id}")
    try:
        model = json.loads(path.read_text())
    except ValueError as exc:
        raise Fail("dashboard.json is valid JSON", f"{DASHBOARD}: {exc}",
                   "a trailing comma or a missing quote; python -m json.tool dashboard.json shows where") from None
    ctx.steps.ok("dashboard.json is valid JSON")
    return model


def _shipped_uids() -> dict[str, str]:
    out = {}
    for p in dashboards_dir().glob("*.json"):
        try:
            out[json.loads(p.read_text()).get("uid")] = p.name
        except ValueError:
            continue
    return out


def check_model(ctx: Context) -> None:
    s = ctx.steps
    model = _load(ctx)
    found = problems(model)
    if found:
        raise Fail("a valid Grafana dashboard model", "; ".join(found[:4]) + (" ..." if len(found) > 4 else ""),
                   "compare with the original in grafana/dashboards/; Grafana refuses or misdraws such a model")
    s.ok("a valid Grafana dashboard model", f"{len(all_panels(model))} panels, ids unique, no overlaps")
    shipped = _shipped_uids()
    s.check(model["uid"] not in shipped, "your copy has its own uid",
            f"uid {model['uid']!r}" + (f" is the uid of the provisioned {shipped[model['uid']]}"
                                       if model["uid"] in shipped else ""),
            "give the copy a new uid (and title): importing it with the same uid would overwrite the lab's dashboard")


def _panel(model: dict[str, Any]) -> dict[str, Any]:
    for p in all_panels(model):
        if isinstance(p, dict) and str(p.get("title", "")).strip().lower() == PANEL_TITLE.lower():
            return p
    raise Fail("the new panel exists", f"no panel titled {PANEL_TITLE!r}", f"add a panel with title: {PANEL_TITLE}")


def check_panel(ctx: Context) -> None:
    s = ctx.steps
    model = _load(ctx)
    if problems(model):
        raise Fail("a valid Grafana dashboard model", "the dashboard is not valid yet",
                   f"run: aiops-lab lab check {ctx.module_id}/valid-model")
    panel = _panel(model)
    s.check(panel.get("type") == "timeseries", "the panel is a time series", f"type {panel.get('type')!r}",
            'use "type": "timeseries": a rate per version is a line per version over time')
    unit = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
    s.check(bool(unit), "the panel has a unit", f"unit {unit!r}",
            'set fieldConfig.defaults.unit, e.g. "ops" or "reqps" (rows per second)')
    targets = [t for t in panel.get("targets") or [] if isinstance(t, dict) and str(t.get("expr", "")).strip()]
    if not targets:
        raise Fail("the panel has a query", "no target with an 'expr'",
                   'add "targets": [{"refId": "A", "expr": "..."}]')
    expr, unknown = expand(str(targets[0]["expr"]), variable_values(model))
    if unknown:
        raise Fail("the query's variables exist",
                   f"the dashboard defines no variable {', '.join(sorted(set(unknown)))}",
                   "use $__rate_interval or a variable from templating.list")
    live.require("prometheus")
    at = time.time() - 1.0
    reference = live.query(REFERENCE, at)
    if not reference:
        raise Fail("the query returns data", "the lab has no predictions in the last minute, so it cannot be judged",
                   "send traffic: aiops-lab load run --duration 2m, then check again")
    try:
        result = live.query(expr, at)
    except live.QueryError as exc:
        raise Fail("the query returns data", f"Prometheus rejects {expr!r}: {exc}",
                   "try the query in the Prometheus UI (with $__rate_interval replaced by 1m)") from None
    if not result:
        raise Fail("the query returns data", f"{expr!r} returns no series", "check the metric name in /metrics")
    s.ok("the query returns data", f"{len(result)} series from the lab's Prometheus")
    versions = {lbl.get("model_version") for lbl, _ in result}
    wanted = {lbl["model_version"] for lbl, _ in reference}
    s.check(None not in versions and versions >= wanted, "one series per model version",
            f"your series' model_version labels: {sorted(str(v) for v in versions)}; serving now: {sorted(wanted)}",
            "aggregate with sum by (model_version) (...) so each version gets its own line")
    total, ref_total = sum(v for _, v in result), sum(v for _, v in reference)
    s.check(close(total, ref_total, RATE_TOLERANCE), "it shows predictions per second",
            f"your series add up to {total:.4g}, the lab measures {ref_total:.4g} predicted rows/s",
            "aiops_predictions_total is a counter: plot rate(...[$__rate_interval]), never the raw counter")


EXERCISES = (
    Exercise("valid-model", "Keep the dashboard a valid Grafana model with its own uid", check_model),
    Exercise("prediction-panel", f"Add the panel '{PANEL_TITLE}' with a live query", check_panel),
)
