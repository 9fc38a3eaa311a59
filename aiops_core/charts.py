"""Time-series charts for pages a learner reads offline: rendered dashboards, drill reports, the drift trend.

One plotting library (matplotlib, Agg backend) behind one small API, so the three pages draw alike and none
of them loads anything from the network. Why matplotlib: maintained for two decades, in every distro, draws
to PNG and SVG with no browser and no server (the lab cannot run Grafana), and its ``Figure`` API keeps no
global state (no ``pyplot``), so a server thread and a CLI can draw at once.

matplotlib is imported inside the functions: importing ``aiops_core`` stays cheap for the services that
never draw. A chart is a stack of ``Panel`` rows sharing one UTC time axis, with vertical ``Marker`` lines
(an injection, a page, a fix) drawn across every row.
"""

from __future__ import annotations

import io
import math
import textwrap
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Points = Sequence[tuple[float, float]]

# Grafana's unit ids (fieldConfig.defaults.unit) the lab's dashboards use -> a value formatter.
_SUFFIX = {"reqps": " req/s", "cps": "/s", "ops": " ops/s", "lengthkm": " km", "bytes": " B"}
# Marker kinds -> colour; anything else is grey. Kept to the drill timeline's event kinds.
MARKER_COLOURS = {"injection": "#c62828", "page": "#ef6c00", "learner": "#1565c0", "action": "#1565c0",
                  "ack": "#6a1b9a", "passed": "#2e7d32", "mitigated": "#2e7d32", "stop": "#616161"}
LEGEND_MAX = 8
_THRESHOLD_COLOURS = {"green": "#2e7d32", "orange": "#ef6c00", "red": "#c62828", "yellow": "#f9a825"}


@dataclass(frozen=True)
class Series:
    label: str
    points: Points


@dataclass(frozen=True)
class Marker:
    """A moment on the time axis: ``kind`` picks the colour, ``label`` is written beside the line."""

    at: float
    kind: str
    label: str = ""


@dataclass
class Panel:
    """One row of a chart: its series share a unit and the thresholds drawn as horizontal lines."""

    title: str
    series: list[Series]
    unit: str = ""
    thresholds: list[tuple[float, str]] = field(default_factory=list)  # (value, colour name)
    note: str = ""  # written in the plot area when there is nothing to draw
    threshold_label: str = "threshold"  # how the legend names the horizontal lines


def formatter(unit: str) -> Callable[[float], str]:
    """How a value of a Grafana ``unit`` reads: ``percentunit`` 0.05 -> "5%", ``s`` 0.25 -> "250 ms"."""
    if unit == "percentunit":
        return lambda v: f"{v * 100:.3g}%"
    if unit == "percent":
        return lambda v: f"{v:.3g}%"
    if unit in ("s", "dtdurations"):
        return _seconds
    if unit in _SUFFIX:
        return lambda v: f"{_short(v)}{_SUFFIX[unit]}"
    if unit.startswith("suffix:"):
        return lambda v: f"{_short(v)} {unit.split(':', 1)[1].strip()}"
    return _short


def axis_formatter(unit: str, largest: float) -> Callable[[float], str]:
    """Like ``formatter``, but one scale for a whole axis: ticks of 100 s and 2.5 min side by side read wrong."""
    if unit not in ("s", "dtdurations"):
        return formatter(unit)
    for limit, divisor, suffix in ((1, 0.001, "ms"), (120, 1, "s"), (7200, 60, "min")):
        if largest < limit:
            return lambda v, d=divisor, u=suffix: f"{v / d:.3g} {u}"
    return lambda v: f"{v / 3600:.3g} h"


def _short(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if abs(v) >= 1e6:
        return f"{v / 1e6:.3g}M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:.3g}k"
    return f"{v:.3g}"


def _seconds(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if abs(v) < 1:
        return f"{v * 1000:.3g} ms"
    if abs(v) < 120:
        return f"{v:.3g} s"
    if abs(v) < 7200:
        return f"{v / 60:.3g} min"
    return f"{v / 3600:.3g} h"


def draw(panels: Sequence[Panel], start: float, end: float, markers: Sequence[Marker] = (),
         fmt: Literal["png", "svg"] = "png", width_in: float = 9.0, row_height_in: float = 2.6) -> bytes:
    """The chart as PNG or SVG bytes (SVG: text drawn as paths -- matplotlib's default ``svg.fonttype`` --
    so it needs no font and no other file)."""
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(width_in, row_height_in * max(1, len(panels))), dpi=100, layout="constrained")
    axes = fig.subplots(max(1, len(panels)), 1, sharex=True, squeeze=False)[:, 0]
    lo, hi = _when(start), _when(max(end, start + 1))
    for ax, panel in zip(axes, panels, strict=False):
        ax.set_title(panel.title, loc="left", fontsize=10)
        fmt_value = formatter(panel.unit)
        values = [v for s in panel.series for _, v in s.points if math.isfinite(v)]
        values += [v for v, _ in panel.thresholds]
        tick = axis_formatter(panel.unit, max((abs(v) for v in values), default=0.0))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos, f=tick: f(v)))
        if values and min(values) >= 0:
            ax.set_ylim(bottom=0)  # a flat 0 % line sits on the axis, not in a band from -4 % to 4 %
        drawn = 0
        for s in panel.series:
            pts = [(ts, v) for ts, v in s.points if math.isfinite(v)]
            if not pts:
                continue
            # Past LEGEND_MAX series the legend would hide the plot: the rest are drawn, unnamed.
            label = _clip(s.label) if drawn < LEGEND_MAX else "_nolegend_"
            ax.plot([_when(ts) for ts, _ in pts], [v for _, v in pts], label=label, linewidth=1.4,
                    marker="o" if len(pts) == 1 else None, markersize=3)
            drawn += 1
        for value, colour in panel.thresholds:
            ax.axhline(value, color=_THRESHOLD_COLOURS.get(colour, colour), linestyle="--", linewidth=1,
                       alpha=0.8, label=f"{panel.threshold_label} {fmt_value(value)}")
        if not drawn:
            note = textwrap.fill(panel.note or "no data in this window", max(20, int(width_in * 9)))
            ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", color="#777", fontsize=8,
                    in_layout=False)
        if drawn or panel.thresholds:
            entries = min(drawn, LEGEND_MAX) + len(panel.thresholds)
            ax.legend(loc="upper left", fontsize=7, framealpha=0.7, ncols=max(1, min(entries, int(width_in // 3))),
                      title=f"{drawn - LEGEND_MAX} more series not named" if drawn > LEGEND_MAX else None,
                      title_fontsize=7)
        ax.grid(True, alpha=0.3)
        _mark(ax, markers, label=ax is axes[0])
    axes[-1].set_xlim(lo, hi)
    # About one tick per 1.3 inches: a quarter-width panel gets three, not fifteen overlapping ones.
    axes[-1].xaxis.set_major_locator(mdates.AutoDateLocator(tz=UTC, minticks=2, maxticks=max(3, int(width_in / 1.3))))
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S", tz=UTC))
    axes[-1].set_xlabel("time (UTC)", fontsize=8)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # A long title on a narrow panel: the layout engine gives up and the default layout is used, which
        # reads fine; the warning would only be noise in a learner's terminal.
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        fig.savefig(buf, format=fmt, metadata=_metadata(fmt))
    return buf.getvalue()


def _clip(label: str, limit: int = 48) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _mark(ax: Any, markers: Sequence[Marker], label: bool) -> None:
    """Vertical lines for the markers; their labels only on the top row, so they are written once."""
    for m in markers:
        colour = MARKER_COLOURS.get(m.kind, "#616161")
        ax.axvline(_when(m.at), color=colour, linewidth=1.2, alpha=0.85)
        if label and m.label:
            ax.annotate(m.label, xy=(_when(m.at), 1.0), xycoords=("data", "axes fraction"), rotation=90,
                        va="top", ha="right", fontsize=6.5, color=colour, xytext=(-2, -2),
                        textcoords="offset points", annotation_clip=False).set_in_layout(False)


def _metadata(fmt: str) -> dict[str, Any]:
    # No creation date inside an SVG: it is page content, not a document of its own.
    return {"Date": None} if fmt == "svg" else {}
