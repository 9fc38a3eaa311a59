"""The incident on one picture: the drill's SLIs over the incident window, with the timeline drawn on them.

Real postmortems carry the graph of the impact; a table of counts hides its shape (a spike that recovered
by itself, a slow burn, a fix that took two tries). Rows: the /predict 5xx ratio and p99 latency (with the
SLO lines), and for a model-quality drill the MAE from feedback and the drift monitor's signals. Vertical
lines: the injection, each page, each learner action, the acknowledgement and the mitigation -- all from
the journal and the pager, the same records the timeline table is built from.

Prometheus may be the thing the drill broke, or gone by the time the report is written: then there is no
chart, and the report says so in words instead (``SliChart.note``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiops_core import charts
from aiops_core.prometheus import PromError, Prometheus, PromUnavailable
from labs.drills.journal import Journal
from labs.drills.quality_impact import ABS_ERROR_COUNT, ABS_ERROR_SUM
from labs.drills.scoring import page_name
from model_service import metrics
from monitoring.drift import metrics as drift_metrics

CHART_FILE = "sli.png"
MAX_POINTS = 300
RATE = "[30s]"  # as the postmortem's minutes-out-of-SLO: short enough to show a one-minute drill
REQUESTS = metrics.HTTP_REQUESTS.describe()[0].name + "_total"
DURATION_BUCKET = metrics.HTTP_DURATION.describe()[0].name + "_bucket"
DRIFT_SHARE = drift_metrics.DATASET_DRIFT_SHARE.describe()[0].name
PREDICTION_DRIFT = drift_metrics.PREDICTION_SCORE.describe()[0].name
PREDICT = 'route="/predict"'
# Timeline kinds drawn as markers (the others -- checks, hints, rollbacks -- would crowd the picture).
MARKED = {"injection": "injection", "learner": "learner", "ack": "ack", "passed": "passed", "stop": "stop"}


@dataclass
class SliChart:
    """Where the chart was written, or why there is none."""

    path: Path | None
    note: str = ""
    rows: tuple[str, ...] = ()

    def markdown(self) -> str:
        """The chart for the Markdown report: the PNG beside it, by relative path, or the reason in words."""
        if self.path is None:
            return f"_No chart of the SLIs: {self.note}._"
        return (f"![{'; '.join(self.rows)} over the incident window; vertical lines mark the injection, pages, "
                f"learner actions and the mitigation]({self.path.name})")


def chart_window(j: Journal, start: float, end: float) -> tuple[float, float]:
    """The incident window with some calm before it (to compare with) and a little of the recovery after."""
    lead = max(60.0, 0.25 * (end - start))
    return start - lead, min(max(end + 30.0, start + 60.0), time.time())


def markers(j: Journal, pages: list[dict[str, Any]], hidden: bool = False) -> list[charts.Marker]:
    """One marker per marked timeline event and per page; ``hidden``: the injection says only that it happened."""

    def label(kind: str, detail: str) -> str:
        if kind == "passed":
            return "mitigated"
        return "fault injected" if hidden and kind == "injection" else _short(detail)

    out = [charts.Marker(e.at, MARKED[e.kind], label(e.kind, e.detail)) for e in j.events if e.kind in MARKED]
    out += [charts.Marker(float(p["paged_at"]), "page", f"page: {page_name(p)}") for p in pages if p.get("paged_at")]
    return sorted(out, key=lambda m: m.at)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def panels(prom: Prometheus, start: float, end: float, quality: bool) -> list[charts.Panel]:
    """The rows to draw; ``PromUnavailable`` propagates (no chart at all), a refused query leaves a row empty."""
    step = max(1.0, (end - start) / MAX_POINTS)
    objectives = {labels.get("slo", ""): v for labels, v in _vector(prom, "slo:objective:ratio", end)}
    rows = [
        ("/predict 5xx ratio", "percentunit",
         [("5xx ratio", f'(sum(rate({REQUESTS}{{{PREDICT},status=~"5.."}}{RATE})) or vector(0)) / '
                        f"sum(rate({REQUESTS}{{{PREDICT}}}{RATE}))")],
         [(1 - objectives["availability"], "red")] if "availability" in objectives else []),
        ("/predict p99 latency", "s",
         [("p99", f"histogram_quantile(0.99, sum by (le) (rate({DURATION_BUCKET}{{{PREDICT}}}{RATE})))")],
         [(metrics.LATENCY_SLO_SECONDS, "red")]),
    ]
    if quality:
        rows += [
            ("MAE from feedback, by model version", "s",
             [("{model_version}", f"sum by (model_version) (rate({ABS_ERROR_SUM}[1m])) / "
                                  f"sum by (model_version) (rate({ABS_ERROR_COUNT}[1m]))")], []),
            ("drift monitor: dataset drift share and prediction drift", "none",
             [("dataset drift share", DRIFT_SHARE), ("prediction drift score", PREDICTION_DRIFT)], []),
        ]
    out = []
    for title, unit, queries, thresholds in rows:
        series, notes = [], []
        for label, query in queries:
            try:
                for labels, points in prom.matrix(query, start, end, step):
                    series.append(charts.Series(label.format(**labels) if "{" in label else label, points))
            except PromUnavailable:
                raise
            except PromError as exc:
                notes.append(f"query refused: {exc.message}")
        out.append(charts.Panel(title, series, unit, thresholds, note="; ".join(notes)))
    return out


def _vector(prom: Prometheus, query: str, at: float) -> list[tuple[dict[str, str], float]]:
    try:
        return prom.vector(query, at)
    except PromUnavailable:
        raise
    except PromError:
        return []


def write(j: Journal, pages: list[dict[str, Any]], prom: Prometheus, start: float, end: float, out_dir: Path,
          quality: bool, hidden: bool = False) -> SliChart:
    """Draw the chart into ``out_dir/sli.png``; without Prometheus, no file and the reason."""
    lo, hi = chart_window(j, start, end)
    try:
        rows = panels(prom, lo, hi, quality)
    except PromUnavailable as exc:
        (out_dir / CHART_FILE).unlink(missing_ok=True)  # a chart from an earlier call would now be a lie
        return SliChart(None, f"Prometheus did not answer when this report was written ({exc.message})")
    path = out_dir / CHART_FILE
    path.write_bytes(charts.draw(rows, lo, hi, markers(j, pages, hidden)))
    return SliChart(path, rows=tuple(r.title for r in rows))
