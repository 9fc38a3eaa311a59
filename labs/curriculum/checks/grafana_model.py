"""Reading a Grafana dashboard JSON model the way Grafana would: structure, layout, and runnable queries.

No Grafana server is installable here, so the check does what Grafana does before it draws a panel:
validate the model and expand the template variables in each query (``$__rate_interval``, ``$route``,
``${var:regex}``, ``[[var]]``) into plain PromQL that the lab's Prometheus can evaluate. The expansion is
``labs.dashboards.variables`` (shared with ``aiops-lab dashboard render``), re-exported here.
"""

from __future__ import annotations

from typing import Any

from labs.dashboards.variables import BUILTINS, expand, variable_values

__all__ = ["BUILTINS", "all_panels", "expand", "problems", "variable_values"]

GRID_WIDTH = 24


def problems(model: Any) -> list[str]:
    """What makes ``model`` an invalid dashboard, in words (empty: valid)."""
    if not isinstance(model, dict):
        return [f"the top level must be a JSON object (the dashboard), found {type(model).__name__}"]
    out = []
    for key, kind, what in (("uid", str, "a non-empty string"), ("title", str, "a non-empty string"),
                            ("schemaVersion", int, "an integer"), ("panels", list, "a list of panels")):
        if not isinstance(model.get(key), kind) or (kind is str and not model[key].strip()):
            out.append(f"'{key}' must be {what}")
    if out:
        return out
    ids: dict[int, str] = {}
    for i, panel in enumerate(all_panels(model)):
        where = f"panel #{i + 1} ({panel.get('title', 'untitled')!r})" if isinstance(panel, dict) else f"panel #{i + 1}"
        if not isinstance(panel, dict):
            out.append(f"{where} is not an object")
            continue
        pid = panel.get("id")
        if not isinstance(pid, int):
            out.append(f"{where} has no integer 'id'")
        elif pid in ids:
            out.append(f"{where} reuses id {pid} of {ids[pid]!r}: panel ids must be unique")
        else:
            ids[pid] = str(panel.get("title"))
        for key in ("type", "title"):
            if not isinstance(panel.get(key), str) or not panel[key].strip():
                out.append(f"{where} needs a '{key}'")
        out.extend(f"{where}: {p}" for p in _grid_problems(panel.get("gridPos")))
    out.extend(_overlaps(model["panels"]))
    return out


def all_panels(model: dict[str, Any]) -> list[Any]:
    """Top-level panels plus those inside collapsed rows."""
    out: list[Any] = []
    for panel in model.get("panels") or []:
        out.append(panel)
        if isinstance(panel, dict):
            out.extend(panel.get("panels") or [])
    return out


def _grid_problems(grid: Any) -> list[str]:
    if not isinstance(grid, dict) or not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")):
        return ["'gridPos' needs integer x, y, w, h"]
    if grid["w"] < 1 or grid["h"] < 1 or grid["x"] < 0 or grid["y"] < 0 or grid["x"] + grid["w"] > GRID_WIDTH:
        return [f"gridPos {grid} does not fit the {GRID_WIDTH}-column grid (x >= 0, w >= 1, x + w <= 24)"]
    return []


def _overlaps(panels: list[Any]) -> list[str]:
    boxes = [(p.get("title"), p["gridPos"]) for p in panels
             if isinstance(p, dict) and not _grid_problems(p.get("gridPos"))]
    out = []
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and \
                    b["y"] < a["y"] + a["h"]:
                out.append(f"panels {ta!r} and {tb!r} overlap (gridPos {a} and {b}); move one below the others")
    return out
