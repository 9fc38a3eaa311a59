"""Judging a learner's PromQL: evaluate it and a reference at the same instants on the lab's Prometheus.

Both sides read the same samples, so an equivalent query agrees to rounding; a wrong window, label filter
or aggregation shows up as a different number. Several instants guard against a coincidence at one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import datetime

from labs.curriculum import live
from labs.curriculum.steps import Fail, Steps, close

REL_TOLERANCE = 0.02


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def _labels(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def single_value(expr: str, at: float, step: str, hint: str) -> float | None:
    """The one value ``expr`` returns at ``at`` (None: no data); ``Fail`` for errors or several series."""
    try:
        series = live.query(expr, at)
    except live.QueryError as exc:
        raise Fail(step, f"Prometheus rejects the query: {exc}", hint) from None
    if len(series) > 1:
        shown = ", ".join(_labels(lbl) for lbl, _ in series[:3])
        raise Fail(step, f"the query returns {len(series)} series ({shown}{', ...' if len(series) > 3 else ''}); "
                   "one number is expected", "aggregate away the extra labels, e.g. sum(...) or sum by (le) (...) "
                   "inside histogram_quantile")
    return series[0][1] if series else None


def compare(steps: Steps, name: str, learner: str, reference: str, *, no_data_hint: str, hint: str,
            need_nonzero: str = "", offsets: Sequence[float] = (0.0, 20.0, 40.0)) -> None:
    """Evaluate ``learner`` and ``reference`` at several instants; record one step with the verdict."""
    if not learner.strip():
        raise Fail(name, "no query written yet", hint)
    now = time.time() - 1.0
    ref_now = _finite(single_value(reference, now, name, hint))
    if ref_now is None:
        raise Fail(name, f"the lab has no data for this at {_clock(now)}, so your query cannot be judged",
                   no_data_hint)
    if need_nonzero and abs(ref_now) < 1e-12:
        raise Fail(name, f"the lab measures exactly 0 at {_clock(now)}, which any query can match", need_nonzero)
    compared = 0
    for offset in offsets:
        at = now - offset
        ref = ref_now if offset == 0 else _finite(single_value(reference, at, name, hint))
        if ref is None:  # no traffic (or 0/0) then: nothing to compare at this instant
            continue
        mine = single_value(learner, at, name, hint)
        if mine is None and offset > 0 and ref == 0:
            continue  # a ratio over series that did not exist yet: "no data" and 0 both mean "none" here
        if mine is None:
            raise Fail(name, f"your query returns no data at {_clock(at)} while the lab measures {ref:.6g}",
                       hint + "; check the metric name and label values against /metrics")
        if not close(mine, ref, REL_TOLERANCE, 1e-9):
            raise Fail(name, f"at {_clock(at)} your query gives {mine:.6g}, the lab measures {ref:.6g}", hint)
        compared += 1
    steps.ok(name, f"matches the lab's measurement at {compared} instant(s) (now {ref_now:.6g})")


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
