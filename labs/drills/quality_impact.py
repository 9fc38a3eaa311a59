"""The quality side of an incident's impact: how many predictions each model version served during the window,
and how wrong they were -- against the same length of time just before the fault.

Read from the service's own counters in Prometheus (``model_service.metrics``): ``PREDICTIONS`` (rows
predicted, by model version) and the ``ABS_ERROR`` histogram (|predicted - actual| of every prediction whose
ground truth arrived through /feedback, by the version that made it). MAE = growth of its ``_sum`` / growth
of its ``_count``.

Why not ``increase()``: it extrapolates to the window's edges and misses what a series counted before its
first sample (a version deployed during the incident), so "300 predictions" would read 312.4, or 0. Each
series is read instead at the window's start and end and at every step between, and its growth added up,
counter resets (a restart) included: exact to the row as long as Prometheus scraped through the window.
A series with no sample at the start was born in the window and counts from zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from aiops_core.prometheus import PromError, Prometheus
from labs.drills.schema import Drill
from model_service import metrics

VERSION = "model_version"
MAX_STEPS = 500  # points per series of one range query; a step of at most 1 s for windows up to ~8 minutes
ALL_VERSIONS = "all versions"


def _family(metric: object) -> str:
    """The exported family name of a ``prometheus_client`` metric (one source for metric names)."""
    return metric.describe()[0].name  # type: ignore[attr-defined]


PREDICTIONS = _family(metrics.PREDICTIONS) + "_total"
ABS_ERROR_SUM = _family(metrics.ABS_ERROR) + "_sum"
ABS_ERROR_COUNT = _family(metrics.ABS_ERROR) + "_count"


def is_quality_incident(drill: Drill) -> bool:
    """A model-quality drill: its success is judged on the golden set, or it should raise a model or drift
    alert (the ``Model*`` and ``Drift*`` alerts, not the ``ModelService*`` ones about the service)."""
    quality_alerts = [a for a in drill.expected_alerts if a.startswith(("Model", "Drift"))
                      and not a.startswith("ModelService")]
    return bool(quality_alerts) or any(check.type == "golden_set" for check in drill.checks)


@dataclass
class Counts:
    """What one model version (or all of them) did over one window; None: Prometheus had no data."""

    predictions: float | None = None
    labelled: float | None = None
    error_sum_s: float | None = None

    @property
    def mae_s(self) -> float | None:
        if not self.labelled or self.error_sum_s is None:
            return None
        return self.error_sum_s / self.labelled


@dataclass
class QualityImpact:
    window_s: float
    window: dict[str, Counts] = field(default_factory=dict)  # version (and ALL_VERSIONS) -> counts
    before: dict[str, Counts] = field(default_factory=dict)  # the same length of time before the fault


def _growth(prom: Prometheus, metric: str, start: float, end: float) -> dict[str, float] | None:
    """Growth of ``metric`` over [start, end] per model version; None when Prometheus has no series of it."""
    selector = f'{metric}{{job="model-service"}}'
    points: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}

    def add(labels: dict[str, str], ts: float, value: float) -> None:
        points.setdefault(tuple(sorted(labels.items())), []).append((ts, value))

    step = max(1.0, (end - start) / MAX_STEPS)
    for labels, value in prom.vector(selector, start):
        add(labels, start, value)
    for labels, series in prom.matrix(selector, start, end, step):
        for ts, value in series:
            if start < ts < end:
                add(labels, ts, value)
    for labels, value in prom.vector(selector, end):
        add(labels, end, value)
    if not points:
        return None
    out: dict[str, float] = {}
    for key, series in points.items():
        series.sort()
        grown = series[0][1] if series[0][0] > start else 0.0  # born in the window: counted from zero
        for (_, before), (_, after) in pairwise(series):
            grown += after - before if after >= before else after  # a reset: the process started over
        version = dict(key).get(VERSION, "?")
        out[version] = out.get(version, 0.0) + grown
    return out


def _counts(prom: Prometheus, start: float, end: float) -> dict[str, Counts]:
    predictions = _growth(prom, PREDICTIONS, start, end)
    labelled = _growth(prom, ABS_ERROR_COUNT, start, end)
    errors = _growth(prom, ABS_ERROR_SUM, start, end)
    served = {v for growth in (predictions, labelled) for v, n in (growth or {}).items() if n > 0}
    versions = sorted(served, key=lambda v: (len(v), v))  # v2 before v10; idle old versions left out
    out = {}
    for version in versions:
        out[version] = Counts(None if predictions is None else predictions.get(version, 0.0),
                              None if labelled is None else labelled.get(version, 0.0),
                              None if errors is None else errors.get(version, 0.0))
    out[ALL_VERSIONS] = Counts(None if predictions is None else sum(predictions.values()),
                               None if labelled is None else sum(labelled.values()),
                               None if errors is None else sum(errors.values()))
    return out


def quality_impact(prom: Prometheus, start: float, end: float) -> QualityImpact:
    """The window [start, end] and the same length of time before it; empty counts when Prometheus fails."""
    impact = QualityImpact(window_s=end - start)
    try:
        impact.window = _counts(prom, start, end)
        impact.before = _counts(prom, start - (end - start), start)
    except PromError:
        impact.window, impact.before = {ALL_VERSIONS: Counts()}, {ALL_VERSIONS: Counts()}
    return impact


def _n(value: float | None) -> str:
    return "no data" if value is None else f"{value:,.0f}"


def _mae(counts: Counts) -> str:
    mae = counts.mae_s
    return "no data" if mae is None else f"{mae / 60:.2f} min"


def _before(impact: QualityImpact, version: str) -> Counts:
    """A version that got no ground truth before the fault: 0 labels if Prometheus had data then, else none."""
    if version in impact.before:
        return impact.before[version]
    had_data = impact.before.get(ALL_VERSIONS, Counts()).labelled is not None
    return Counts(labelled=0.0 if had_data else None)


def quality_markdown(impact: QualityImpact) -> str:
    """The quality table: per version, and for all versions together (the last row)."""
    lines = ["Quality, from the service's own counters: rows predicted, and ground truth received through "
             "/feedback during the window, by the model version that made the prediction. \"Before the fault\": "
             "the same length of time just before the fault started.", "",
             "| model version | predictions served | ground truth received | MAE | ground truth before the fault "
             "| MAE before the fault |", "| --- | --- | --- | --- | --- | --- |"]
    versions = [v for v in impact.window if v != ALL_VERSIONS] + [ALL_VERSIONS]
    for version in versions:
        now, before = impact.window.get(version, Counts()), _before(impact, version)
        lines.append(f"| {version} | {_n(now.predictions)} | {_n(now.labelled)} | {_mae(now)} | "
                     f"{_n(before.labelled)} | {_mae(before)} |")
    return "\n".join(lines)
