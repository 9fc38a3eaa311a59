"""The trend over the kept runs: dataset drift share, prediction drift and MAE, as one inline SVG.

A single run's verdict says "drift now"; the trend says since when and how fast -- whether the drift came
with a deploy, grows with a data feed's decay, or was one odd window. Drawn by ``aiops_core.charts`` (the
lab's one plotting code) as SVG inside the page: no image file, no script, nothing loaded from anywhere.

Drawing costs a few hundred milliseconds and the runs change only when the monitor runs, so the last SVG
is kept for as long as the set of runs is the same.
"""

from __future__ import annotations

import threading
from html import escape

from aiops_core import charts
from monitoring.drift.summary import RunSummary

_cache: dict[tuple[str, ...], str] = {}
_lock = threading.Lock()


def panels(runs: list[RunSummary]) -> list[charts.Panel]:
    """The three rows, oldest run first; a run without a value (too few rows, no feedback) leaves a gap."""
    ok = sorted((r for r in runs if r.outcome == "success"), key=lambda r: r.started_at)
    share = [(r.started_at, r.dataset.share) for r in ok if r.dataset and r.dataset.share is not None]
    pred = [(r.started_at, r.prediction.score) for r in ok if r.prediction and r.prediction.score is not None]
    mae = [(r.started_at, r.quality.mae_seconds) for r in ok if r.quality and r.quality.mae_seconds is not None]
    newest = ok[-1] if ok else None
    share_limit = [(newest.dataset.threshold, "red")] if newest and newest.dataset else []
    pred_limit = [(newest.prediction.threshold, "red")] if newest and newest.prediction else []
    training = newest.quality.training_mae_seconds if newest and newest.quality else None
    return [
        charts.Panel("dataset drift share (drifted features / tested)", [charts.Series("share", share)],
                     "percentunit", share_limit, note="no run had enough rows"),
        charts.Panel("prediction drift score", [charts.Series("score", pred)], "none", pred_limit,
                     note="no run had enough rows"),
        charts.Panel("MAE from feedback", [charts.Series("MAE", mae)], "s", [(training, "orange")] if training else [],
                     note="no run had enough feedback", threshold_label="training holdout MAE"),
    ]


def svg(runs: list[RunSummary]) -> str:
    """The chart as an ``<svg>`` element (the XML prologue stripped, so it can sit inside HTML)."""
    key = tuple(r.json_file or r.run_id for r in runs)
    with _lock:
        if key in _cache:
            return _cache[key]
    times = [r.started_at for r in runs]
    span = max(times) - min(times)
    pad = max(30.0, 0.05 * span)
    drawn = charts.draw(panels(runs), min(times) - pad, max(times) + pad, fmt="svg", width_in=10.0,
                        row_height_in=2.0).decode("utf-8")
    element = drawn[drawn.index("<svg"):]
    with _lock:
        _cache.clear()
        _cache[key] = element
    return element


def section(runs: list[RunSummary]) -> str:
    """The trend's part of the index page (empty while there is no run to draw)."""
    if not runs:
        return ""
    n = len(runs)
    return (f'<section class="trend"><h2>Trend over the {n} kept run{"s" if n > 1 else ""}</h2>'
            f'<figure role="img" aria-label="{escape("drift share, prediction drift and MAE per run")}">'
            f"{svg(runs)}</figure></section>")
