"""One dashboard JSON -> one self-contained HTML page of its panels, drawn from the lab's Prometheus.

A reading aid, not a Grafana clone: every panel (time series, stat, table) is drawn as lines over the
window, with the title, unit and thresholds its JSON declares, and a stat panel's latest value beside it.
The PNGs are embedded in the page (``data:`` URIs), so it opens from disk, offline, and can be mailed.

A panel that has nothing to draw says why on the page and in ``Rendered.empty`` (no data in the window, or
the PromQL error): an error panel with no errors is empty, and that is a finding, not a failure.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from aiops_core import charts, paths
from aiops_core.durations import format_ms
from aiops_core.errors import LabError
from aiops_core.prometheus import Prometheus, QueryError
from labs.dashboards.variables import expand, variable_values

MAX_POINTS = 240  # per series: a step of 7.5 s over the default 30 minutes
PANEL_WIDTH_IN = 16.0  # a full-width (24-column) panel, in inches at 100 dpi
_LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def dashboards_dir() -> Path:
    return paths.dashboards_source_dir()


def output_dir() -> Path:
    """Where rendered pages go unless ``--out`` says otherwise: beside the lab's other reports. The lab's web
    pages link ``<this>/<name>.html`` (one place for the path)."""
    return paths.rendered_dashboards_dir()


def names() -> list[str]:
    """Dashboard names: the JSON files' stems (``service``, ``model``, ``incident``)."""
    return sorted(p.stem for p in dashboards_dir().glob("*.json"))


def load(name: str) -> tuple[str, dict[str, Any]]:
    """(file stem, model) of the dashboard called ``name`` (a file stem or a uid); the error lists the names."""
    for path in sorted(dashboards_dir().glob("*.json")):
        model = json.loads(path.read_text())
        if name in (path.stem, model.get("uid")):
            return path.stem, model
    available = ", ".join(names()) or f"none found in {dashboards_dir()}"
    raise LabError(f"no dashboard called {name!r}; choose one of: {available}")


@dataclass
class PanelResult:
    title: str
    kind: str
    unit: str
    series: int  # series drawn with at least one point
    png: bytes
    last: str = ""  # a stat panel's latest value, formatted in its unit
    empty_reason: str = ""


@dataclass
class Rendered:
    name: str  # the file stem
    uid: str
    title: str
    html: Path
    panels: list[PanelResult] = field(default_factory=list)

    @property
    def empty(self) -> dict[str, str]:
        """Title -> why nothing was drawn, for the panels that have no series."""
        return {p.title: p.empty_reason for p in self.panels if not p.series}


def legend(fmt: str, labels: dict[str, str], expr: str) -> str:
    """Grafana's legend: ``{{label}}`` filled in; ``__auto``/empty -> the label set (or the expression)."""
    if fmt and fmt != "__auto":
        return _LEGEND.sub(lambda m: labels.get(m.group(1), ""), fmt)
    shown = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return labels.get("__name__", "") + (f"{{{shown}}}" if shown else "") or expr


def thresholds(panel: dict[str, Any]) -> list[tuple[float, str]]:
    """The threshold steps that have a value (the base step, value null, is the colour below them all)."""
    steps = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds", {}).get("steps") or []
    return [(float(s["value"]), str(s.get("color", "red"))) for s in steps if s.get("value") is not None]


def render(name: str, prom: Prometheus, since_s: float, out_dir: Path, now: float | None = None,
           progress: Callable[[str], None] | None = None) -> Rendered:
    """Query and draw every panel of dashboard ``name`` over the last ``since_s`` seconds into
    ``out_dir/<name>.html``. ``PromUnavailable`` propagates (nothing to draw); a refused query does not."""
    stem, model = load(name)
    end = time.time() if now is None else now
    step = max(1.0, since_s / MAX_POINTS)
    # The steps fall at start + k * step: a whole number of steps puts the last one at ``end`` exactly, so a
    # series scraped in the last second (a drill that just started) is not lost between the last step and now.
    start = end - math.ceil(since_s / step) * step
    values = variable_values(model)
    values.update({"__interval": format_ms(int(step * 1000)), "__interval_ms": str(int(step * 1000)),
                   "__range": format_ms(int(since_s * 1000)), "__range_s": str(int(since_s)),
                   "__range_ms": str(int(since_s * 1000))})
    result = Rendered(stem, str(model.get("uid", stem)), str(model.get("title", stem)), out_dir / f"{stem}.html")
    panels = [p for p in model.get("panels") or [] if p.get("type") != "row"]
    for i, panel in enumerate(panels, 1):
        if progress is not None:
            progress(f"panel {i}/{len(panels)}: {panel.get('title', '')}")
        result.panels.append(_panel(panel, prom, values, start, end, step))
    out_dir.mkdir(parents=True, exist_ok=True)
    result.html.write_text(page(model, result, start, end))
    return result


def _panel(panel: dict[str, Any], prom: Prometheus, values: dict[str, str], start: float, end: float,
           step: float) -> PanelResult:
    unit = str(((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit") or "")
    series: list[charts.Series] = []
    errors: list[str] = []
    for target in panel.get("targets") or []:
        expr, unknown = expand(str(target.get("expr", "")), values)
        if unknown:
            errors.append(f"{target.get('refId', '?')}: unknown variable(s) {', '.join(sorted(set(unknown)))}")
            continue
        try:
            for labels, points in prom.matrix(expr, start, end, step):
                series.append(charts.Series(legend(str(target.get("legendFormat") or ""), labels, expr), points))
        except QueryError as exc:
            errors.append(f"{target.get('refId', '?')}: Prometheus refused the query: {exc.message}")
    drawn = [s for s in series if any(math.isfinite(v) for _, v in s.points)]
    reason = "; ".join(errors) if errors else "" if drawn else (
        "every value is NaN (a ratio or quantile of nothing: no such events in the window)" if series
        else "no data in this window")
    grid = panel.get("gridPos") or {}
    width = PANEL_WIDTH_IN * max(6, int(grid.get("w", 12))) / 24
    title = str(panel.get("title", ""))
    png = charts.draw([charts.Panel(title, drawn, unit, thresholds(panel), note=reason)], start, end,
                      width_in=width, row_height_in=max(2.2, 0.32 * int(grid.get("h", 8))))
    last = ""
    if panel.get("type") == "stat" and drawn:
        fmt = charts.formatter(unit)
        last = " · ".join(f"{s.label}: {fmt(s.points[-1][1])}" for s in drawn[:4])
    return PanelResult(title, str(panel.get("type", "")), unit, len(drawn), png, last, reason)


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
.grid{display:grid;grid-template-columns:repeat(24,1fr);gap:.6rem}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:4px;padding:.4rem}
figure img{width:100%;height:auto}figcaption{font-size:.8rem;color:#555}
.empty{color:#8a5a00}.last{font-weight:600;font-size:1.1rem}.muted{color:#777}
"""


def page(model: dict[str, Any], result: Rendered, start: float, end: float) -> str:
    """The HTML page: a 24-column grid like Grafana's, each panel an embedded PNG with its caption."""
    figures = []
    panels = [p for p in model.get("panels") or [] if p.get("type") != "row"]
    for panel, drawn in zip(panels, result.panels, strict=True):
        span = max(6, int((panel.get("gridPos") or {}).get("w", 12)))
        b64 = base64.b64encode(drawn.png).decode("ascii")
        caption = [escape(str(panel.get("description", "")))]
        if drawn.last:
            caption.insert(0, f'<span class="last">now: {escape(drawn.last)}</span>')
        if drawn.empty_reason:
            caption.append(f'<span class="empty">empty: {escape(drawn.empty_reason)}</span>')
        unit = f" · unit {escape(drawn.unit)}" if drawn.unit else ""
        figures.append(f'<figure style="grid-column:span {span}" data-series="{drawn.series}">'
                       f'<img alt="{escape(drawn.title)}" src="data:image/png;base64,{b64}">'
                       f'<figcaption>{"<br>".join(c for c in caption if c)}{unit}</figcaption></figure>')
    when = " to ".join(datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S") for t in (start, end))
    empty = "".join(f"<li>{escape(t)}: {escape(r)}</li>" for t, r in result.empty.items())
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f"<title>{escape(result.title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{escape(result.title)}</h1>"
            f'<p class="muted">{when} UTC · drawn from <code>grafana/dashboards/{escape(result.name)}.json</code> '
            f"by <code>aiops-lab dashboard render {escape(result.name)}</code> (not live: run it again to "
            "refresh)</p>"
            + (f"<details><summary>{len(result.empty)} panel(s) with nothing to draw</summary><ul>{empty}</ul>"
               "</details>" if empty else "")
            + f'<div class="grid">{"".join(figures)}</div></body></html>')
