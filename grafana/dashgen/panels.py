"""Building blocks for the lab's Grafana dashboards: panels, variables, annotations, and a grid layout.

Dashboards are generated so that feature panels follow the feature schema and every panel gets the same
required fields (description, unit, pinned datasource, position, id) without hand-editing JSON.
"""

from __future__ import annotations

from typing import Any

DATASOURCE_UID = "prometheus"
DATASOURCE = {"type": "prometheus", "uid": DATASOURCE_UID}
RATE = "$__rate_interval"
GRID_WIDTH = 24
SCHEMA_VERSION = 39

Panel = dict[str, Any]


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False, table: bool = False) -> dict[str, Any]:
    return {
        "refId": ref,
        "datasource": DATASOURCE,
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
        "format": "table" if table else "time_series",
    }


def targets(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    """(expr, legend) pairs with refIds A, B, C..."""
    return [target(expr, legend, ref=chr(ord("A") + i)) for i, (expr, legend) in enumerate(pairs)]


def thresholds(*steps: tuple[str, float | None]) -> dict[str, Any]:
    """Colour steps; the first step is the base (value None)."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


GREEN = thresholds(("green", None))


def _field_config(unit: str, steps: dict[str, Any] | None, custom: dict[str, Any] | None = None,
                  **defaults: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"unit": unit, "color": {"mode": "palette-classic" if custom else "thresholds"},
                           "thresholds": steps or GREEN, "mappings": []}
    if custom:
        out["custom"] = custom
    out.update(defaults)
    return {"defaults": out, "overrides": []}


def timeseries(title: str, description: str, unit: str, tgts: list[dict[str, Any]],
               steps: dict[str, Any] | None = None, threshold_lines: bool = False, **defaults: Any) -> Panel:
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
              "spanNulls": False, "axisSoftMin": 0,
              "thresholdsStyle": {"mode": "line+area" if threshold_lines else "off"}}
    return {
        "type": "timeseries", "title": title, "description": description, "datasource": DATASOURCE,
        "fieldConfig": _field_config(unit, steps, custom, **defaults),
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": tgts,
    }


def stat(title: str, description: str, unit: str, tgts: list[dict[str, Any]],
         steps: dict[str, Any] | None = None, text_mode: str = "auto", **defaults: Any) -> Panel:
    return {
        "type": "stat", "title": title, "description": description, "datasource": DATASOURCE,
        "fieldConfig": _field_config(unit, steps, **defaults),
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area", "justifyMode": "auto", "orientation": "auto",
                    "textMode": text_mode, "wideLayout": True},
        "targets": tgts,
    }


def table(title: str, description: str, tgts: list[dict[str, Any]], unit: str = "none") -> Panel:
    return {
        "type": "table", "title": title, "description": description, "datasource": DATASOURCE,
        "fieldConfig": _field_config(unit, None),
        "options": {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}},
        "transformations": [{"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True,
                                                                               "__name__": True}}}],
        "targets": tgts,
    }


class Grid:
    """Places panels left to right on Grafana's 24-column grid, wrapping to a new row when full."""

    def __init__(self) -> None:
        self.panels: list[Panel] = []
        self.x = 0
        self.y = 0
        self.row_height = 0

    def add(self, panel: Panel, w: int, h: int) -> Grid:
        if not 0 < w <= GRID_WIDTH:
            raise ValueError(f"panel width {w} does not fit the {GRID_WIDTH}-column grid")
        if self.x + w > GRID_WIDTH:
            self.newline()
        panel = {"id": len(self.panels) + 1, "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y}, **panel}
        self.panels.append(panel)
        self.x += w
        self.row_height = max(self.row_height, h)
        return self

    def newline(self) -> Grid:
        self.y += self.row_height
        self.x = 0
        self.row_height = 0
        return self


def datasource_variable() -> dict[str, Any]:
    return {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
            "current": {"selected": True, "text": "Prometheus", "value": DATASOURCE_UID},
            "hide": 0, "includeAll": False, "multi": False, "options": [], "refresh": 1, "regex": ""}


def query_variable(name: str, label: str, metric: str, label_name: str, description: str) -> dict[str, Any]:
    """A multi-value variable from ``label_values(metric, label)``; "All" means the regex ``.*``."""
    query = f"label_values({metric}, {label_name})"
    return {
        "name": name, "label": label, "description": description, "type": "query", "datasource": DATASOURCE,
        "definition": query, "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery",
                                       "qryType": 1},
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "includeAll": True, "allValue": ".*", "multi": True, "options": [], "refresh": 2, "regex": "",
        "sort": 1, "hide": 0,
    }


def annotation(name: str, expr: str, title: str, tag_keys: str, color: str) -> dict[str, Any]:
    return {"name": name, "datasource": DATASOURCE, "enable": True, "hide": False, "iconColor": color,
            "expr": expr, "step": "30s", "titleFormat": title, "tagKeys": tag_keys, "textFormat": "",
            "useValueForTime": False}


BUILTIN_ANNOTATION = {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
                      "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
                      "type": "dashboard"}


def dashboard(uid: str, title: str, description: str, tags: list[str], grid: Grid,
              variables: list[dict[str, Any]], annotations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uid": uid, "title": title, "description": description, "tags": ["aiops-lab", *tags],
        "schemaVersion": SCHEMA_VERSION, "version": 1, "editable": True, "graphTooltip": 1,
        "timezone": "browser", "fiscalYearStartMonth": 0, "liveNow": False,
        "time": {"from": "now-30m", "to": "now"}, "refresh": "10s",
        "timepicker": {"refresh_intervals": ["5s", "10s", "30s", "1m", "5m"]},
        "links": [{"title": "aiops-lab dashboards", "type": "dashboards", "tags": ["aiops-lab"], "asDropdown": True,
                   "includeVars": False, "keepTime": True, "icon": "external link", "targetBlank": False,
                   "tooltip": "", "url": ""}],
        "annotations": {"list": [BUILTIN_ANNOTATION, *annotations]},
        "templating": {"list": variables},
        "panels": grid.panels,
    }
