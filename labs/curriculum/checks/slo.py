"""Module 05, SLOs and error budgets: define two SLOs, then measure their error ratios and burn rates.

The learner picks the objectives (and the latency threshold), so no two answers files look alike. The
check recomputes everything from those choices: the budget arithmetic directly, the error ratios and burn
rates on the lab's Prometheus at the instant the learner says they measured (``measured_at``), over the
window they name -- so the numbers must be theirs, measured on this lab.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client.utils import floatToGoString

from labs.curriculum import answers, live
from labs.curriculum.catalogue import Exercise
from labs.curriculum.context import Context
from labs.curriculum.steps import Fail, Steps, close
from model_service.metrics import LATENCY_BUCKETS

ANSWERS = "slo.yaml"
PERIOD_MINUTES = 30 * 24 * 60
REL_TOLERANCE = 0.05
MAX_AGE_S = 3 * 3600  # measure recently: older samples may be compacted away in a short-lived lab
_PREDICT = 'route="/predict"'
_WINDOW = re.compile(r"^(\d+)([smh])$")


def _objective(data: dict[str, Any], slo: str, path: Path) -> float:
    value = answers.number(data, f"{slo}.objective", path, "a ratio such as 0.995 (99.5%)")
    if not 0.5 <= value < 1:
        raise Fail(f"{slo}.objective", f"{value:g} is not a ratio between 0.5 and 1",
                   "write it as a ratio: 99.5% is 0.995 (100% leaves no error budget at all)")
    return value


def _threshold(data: dict[str, Any], path: Path) -> float:
    value = answers.number(data, "latency.threshold_seconds", path, "one of the histogram's bucket bounds")
    if not any(abs(value - b) < 1e-9 for b in LATENCY_BUCKETS):
        raise Fail("latency.threshold_seconds", f"{value:g} s is not a bucket boundary of "
                   "aiops_http_request_duration_seconds",
                   "choose one of " + ", ".join(f"{b:g}" for b in LATENCY_BUCKETS)
                   + ": between bounds, 'good' can only be interpolated, not counted")
    return value


def check_define(ctx: Context) -> None:
    s = ctx.steps
    data = ctx.answers(ANSWERS)
    path = ctx.file(ANSWERS)
    _threshold(data, path)
    s.ok("latency.threshold_seconds is a bucket boundary")
    for slo in ("availability", "latency"):
        objective = _objective(data, slo, path)
        budget = answers.number(data, f"{slo}.error_budget", path, "1 - objective")
        s.check(close(budget, 1 - objective, 1e-6, 1e-9), f"{slo}.error_budget",
                f"you wrote {budget:g} for objective {objective:g}",
                "the error budget is the share of events allowed to be bad: 1 - objective")
        minutes = answers.number(data, f"{slo}.budget_minutes_30d", path, "minutes of full outage per 30 days")
        want = (1 - objective) * PERIOD_MINUTES
        s.check(close(minutes, want, 0.01, 0.5), f"{slo}.budget_minutes_30d", f"you wrote {minutes:g}",
                "the budget as time: error budget x 30 days x 24 h x 60 min")


def _sli_error(slo: str, window: str, threshold: float) -> str:
    if slo == "availability":
        return (f'(sum(rate(aiops_http_requests_total{{{_PREDICT},status=~"5.."}}[{window}])) or vector(0)) '
                f"/ sum(rate(aiops_http_requests_total{{{_PREDICT}}}[{window}]))")
    good = f'aiops_http_request_duration_seconds_bucket{{{_PREDICT},le="{floatToGoString(threshold)}"}}'
    return (f"1 - sum(rate({good}[{window}])) "
            f"/ sum(rate(aiops_http_request_duration_seconds_count{{{_PREDICT}}}[{window}]))")


def _when(data: dict[str, Any], path: Path, started_at: float) -> tuple[float, str]:
    at = answers.timestamp(data, "measured_at", path)
    now = time.time()
    if at > now + 5:
        raise Fail("measured_at", f"{datetime.fromtimestamp(at).isoformat()} is in the future",
                   "write the time you ran your queries: date -u +%Y-%m-%dT%H:%M:%SZ")
    if at < started_at:
        raise Fail("measured_at", f"{datetime.fromtimestamp(at).isoformat()} is before you started this module "
                   f"({datetime.fromtimestamp(started_at).isoformat()})", "measure again now and write the new time")
    if at < now - MAX_AGE_S:
        raise Fail("measured_at", f"{datetime.fromtimestamp(at).isoformat()} is more than 3 hours ago",
                   "measure again now and write the new time")
    window = answers.text(data, "window", path, "a PromQL duration such as 5m")
    match = _WINDOW.match(window)
    if match is None:
        raise Fail("window", f"{window!r} is not a PromQL duration", "write a whole number and s, m or h, e.g. 5m")
    seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]
    if not 60 <= seconds <= 3600:
        raise Fail("window", f"{window} is outside 1m..1h", "a short window such as 5m: the lab is young")
    return at, window


def _measure(s: Steps, data: dict[str, Any], path: Path, slo: str, at: float, window: str) -> None:
    objective = _objective(data, slo, path)
    threshold = _threshold(data, path) if slo == "latency" else 0.0
    series = live.query(_sli_error(slo, window, threshold), at)
    if not series:
        raise Fail(f"{slo}.error_ratio", f"the lab served no /predict traffic in the {window} before measured_at",
                   "send traffic (aiops-lab load run --duration 5m), measure during it, write measured_at")
    ratio = max(0.0, series[0][1])
    if ratio <= 0:
        raise Fail(f"{slo}.error_ratio", "the lab measured no bad events in that window, so nothing can be "
                   "compared", "spend some budget first: aiops-lab config set error_ratio 0.02 (availability) and "
                   "explanations_enabled true (slow batches, latency) while traffic runs; revert both afterwards")
    mine = answers.number(data, f"{slo}.error_ratio", path, "the measured share of bad events (0..1)")
    s.check(close(mine, ratio, REL_TOLERANCE, 1e-5), f"{slo}.error_ratio",
            f"you wrote {mine:.5g}, the lab measured {ratio:.5g} over [{window}] at measured_at",
            "bad events / all events of /predict over the window, from rate() of the counters"
            + (" (latency: 1 - requests within the threshold bucket / all requests)" if slo == "latency" else
               " (5xx only: 4xx is the client's fault)"))
    burn = answers.number(data, f"{slo}.burn_rate", path, "error ratio / error budget")
    want = ratio / (1 - objective)
    s.check(close(burn, want, REL_TOLERANCE, 1e-4), f"{slo}.burn_rate",
            f"you wrote {burn:.4g}, expected {want:.4g} (error ratio / (1 - {objective:g}))",
            "burn rate = error ratio / error budget: 1 spends exactly the 30-day budget in 30 days")


def check_availability(ctx: Context) -> None:
    data = ctx.answers(ANSWERS)
    at, window = _when(data, ctx.file(ANSWERS), ctx.started_at)
    live.require("prometheus")
    _measure(ctx.steps, data, ctx.file(ANSWERS), "availability", at, window)


def check_latency(ctx: Context) -> None:
    data = ctx.answers(ANSWERS)
    at, window = _when(data, ctx.file(ANSWERS), ctx.started_at)
    live.require("prometheus")
    _measure(ctx.steps, data, ctx.file(ANSWERS), "latency", at, window)


EXERCISES = (
    Exercise("define", "Define an availability and a latency SLO and their error budgets", check_define),
    Exercise("availability-burn", "Measure the availability SLI and its burn rate", check_availability),
    Exercise("latency-burn", "Measure the latency SLI and its burn rate", check_latency),
)
