"""Module 07, load and capacity: run a load test, then estimate the service's capacity within 20%.

The reference is measured at check time with the load package's own capacity runner (the code behind
``aiops-lab load capacity``), bounded in time, on this machine as it is now -- a capacity number is only
true for the hardware and build it was measured on, which is the lesson.

A stepped test only brackets the knee: the true capacity lies between the last step within the limits
and the first step beyond them. An estimate passes when it falls in that bracket widened by 20% on each
side. A step that breaks the limits is run a second time and counts as a breach only if it breaks them
again: Locust shares two cores with the service, and one slow moment (a GC pause, another process) pushes
a short step's p99 over 250 ms on its own. A measurement is reused for ``REUSE_S`` so fixing a typo does
not cost another minute of load.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiops_core import paths
from labs.curriculum import answers, live
from labs.curriculum.catalogue import Exercise
from labs.curriculum.context import Context
from labs.curriculum.steps import Fail

ANSWERS = "capacity.yaml"
TOLERANCE = 0.20
REUSE_S = 600.0
CHECK_KIND = "capacity-check"
# The check's own capacity run: the CLI's limits (p99 <= 250 ms = the latency SLO, failures <= 1%) with
# shorter steps and a hard time budget.
START_USERS, MAX_USERS, STEP_S, BUDGET_S, THINK_SCALE = 16, 256, 5.0, 90.0, 0.1
MAX_P99_MS, MAX_FAILURE_RATIO = 250.0, 0.01


def _reports(started_at: float, names: tuple[str, ...], kind: str = "") -> list[tuple[Path, dict[str, Any]]]:
    root = paths.reports_dir() / "load"
    found = []
    for name in names:
        for path in root.glob(f"*{kind}/{name}") if root.is_dir() else []:
            if path.stat().st_mtime < started_at:
                continue
            try:
                found.append((path, json.loads(path.read_text())))
            except (OSError, ValueError):
                continue
    return sorted(found, key=lambda item: item[0].stat().st_mtime)


def check_load_test(ctx: Context) -> None:
    runs = [r for r in _reports(ctx.started_at, ("run.json", "capacity.json")) if CHECK_KIND not in str(r[0])]
    if not runs:
        raise Fail("you ran a load test", f"no load report under {paths.reports_dir() / 'load'} since you started",
                   "run one: aiops-lab load run --users 20 --duration 1m   (or aiops-lab load capacity)")
    path, data = runs[-1]
    total = data.get("total") or data.get("knee") or {}
    ctx.steps.check(bool(total.get("requests")), "you ran a load test",
                    f"{path.parent.name}: {total.get('requests', 0)} requests, {total.get('rps', 0):.0f} rps",
                    "the run sent no request: is the lab healthy? (aiops-lab status)")


def bracket(result: dict[str, Any]) -> tuple[float, float] | None:
    """(rps of the knee, rps of the first breaching step above it, or the knee again) from capacity.json."""
    knee = result.get("knee")
    if not knee:
        return None
    above = [s for s in result.get("steps", []) if not s.get("ok") and s["users"] > knee["users"]]
    high = min(above, key=lambda s: s["users"])["rps"] if above else knee["rps"]
    return float(knee["rps"]), max(float(high), float(knee["rps"]))


def _confirm_breaches(limits: Any) -> Callable[[Any], Any]:
    """A ``run_step`` for ``find_capacity`` that re-runs a breaching step once and keeps a passing re-run."""
    from labs.load import runner

    def run_step(spec: Any) -> Any:
        first = runner.run(spec)
        if first.interrupted or first.summary is None or not limits.breaches(first.summary["total"]):
            return first
        again = runner.run(replace(spec, out_dir=spec.out_dir.with_name(spec.out_dir.name + "-again")))
        passed = again.summary is not None and not again.interrupted and not limits.breaches(again.summary["total"])
        return again if passed else first

    return run_step


def measure() -> dict[str, Any]:
    """Measure the knee now, like ``aiops-lab load capacity``; returns its capacity.json content."""
    from labs.load import runner
    from labs.load.capacity import CapacityPlan, find_capacity
    from labs.load.thresholds import Limits

    live.require("model-service")
    url = live.url("model-service")
    out = runner.new_report_dir(CHECK_KIND)
    limits = Limits(MAX_FAILURE_RATIO, MAX_P99_MS)
    plan = CapacityPlan(START_USERS, MAX_USERS, STEP_S, BUDGET_S, limits)

    def make_run(users: int, step_dir: Path) -> runner.LoadRun:
        return runner.LoadRun(host=url, out_dir=step_dir, profile="steady", data="normal", users=users,
                              duration_s=STEP_S, shape_params="ramp_seconds=1", think_scale=THINK_SCALE,
                              reset_stats=True, html=False)

    # Progress straight to stdout: this check takes a minute, and the CLI that runs it prints its verdict after.
    info = functools.partial(print, flush=True)
    info(f"measuring the knee now (about {BUDGET_S:.0f} s; reports: {out})")
    result = find_capacity(plan, make_run, out, run_step=_confirm_breaches(limits), on_step=lambda s: info(
        f"  {s.users:4d} users: {s.rps:7.1f} rps  p99 {s.p99_ms:5.0f} ms  failures {s.failure_ratio:.2%}"))
    data = result.to_json(plan, url, "normal")
    (out / "capacity.json").write_text(json.dumps(data, indent=2))
    return data


def reference() -> tuple[dict[str, Any], bool]:
    """A recent check measurement (reused), else a new one; and whether it was reused."""
    recent = _reports(time.time() - REUSE_S, ("capacity.json",), kind=CHECK_KIND)
    if recent and recent[-1][1].get("knee"):
        return recent[-1][1], True
    return measure(), False


def check_estimate(ctx: Context) -> None:
    data = ctx.answers(ANSWERS)
    estimate = answers.number(data, "max_rps", ctx.file(ANSWERS), "requests per second within the SLO")
    if estimate <= 0:
        raise Fail("max_rps", f"{estimate:g} is not a throughput", "requests per second, e.g. 420")
    result, reused = reference()
    span = bracket(result)
    if span is None:
        raise Fail("capacity estimate", f"no step stayed within the limits ({result.get('stop_reason')})",
                   "the service is unhealthy or overloaded right now: aiops-lab status, revert fault flags, retry")
    low, high = span
    ok = low * (1 - TOLERANCE) <= estimate <= high * (1 + TOLERANCE)
    measured = f"the knee lies between {low:.0f} and {high:.0f} rps" + (" (measured in the last 10 min)" if reused
                                                                         else "")
    ctx.steps.check(ok, "capacity estimate", f"you estimated {estimate:.0f} rps; {measured}; "
                    f"{low * (1 - TOLERANCE):.0f}-{high * (1 + TOLERANCE):.0f} passes",
                    "double the users step by step (aiops-lab load capacity) and take the highest throughput whose "
                    f"p99 stays <= {MAX_P99_MS:.0f} ms with <= {MAX_FAILURE_RATIO:.0%} failures, with nothing else "
                    "loading the machine")


EXERCISES = (
    Exercise("load-test", "Run a load test against the lab", check_load_test),
    Exercise("estimate", "Estimate the sustainable throughput (within 20% of the knee)", check_estimate),
)
