"""Module 07, load and capacity: run a load test, then estimate the service's capacity within 20%.

The reference is measured at check time with the load package's own capacity runner (the code behind
``aiops-lab load capacity``), bounded in time, on this machine as it is now -- a capacity number is only
true for the hardware and build it was measured on, which is the lesson.
"""

from __future__ import annotations

import json
from pathlib import Path

from labs import paths
from labs.cli.output import info
from labs.curriculum import answers, live
from labs.curriculum.catalogue import Exercise
from labs.curriculum.context import Context
from labs.curriculum.steps import Fail, close

ANSWERS = "capacity.yaml"
TOLERANCE = 0.20
# The check's own capacity run: the CLI's limits (p99 <= 250 ms = the latency SLO, failures <= 1%) with
# shorter steps, and a hard time budget.
START_USERS, MAX_USERS, STEP_S, BUDGET_S, THINK_SCALE = 4, 256, 8.0, 100.0, 0.1
MAX_P99_MS, MAX_FAILURE_RATIO = 250.0, 0.01


def _runs_since(started_at: float) -> list[tuple[Path, dict]]:
    root = paths.reports_dir() / "load"
    found = []
    for name in ("run.json", "capacity.json"):
        for path in root.glob(f"*/{name}") if root.is_dir() else []:
            if path.stat().st_mtime < started_at:
                continue
            try:
                found.append((path, json.loads(path.read_text())))
            except (OSError, ValueError):
                continue
    return found


def check_load_test(ctx: Context) -> None:
    runs = _runs_since(ctx.started_at)
    if not runs:
        raise Fail("you ran a load test", f"no load report under {paths.reports_dir() / 'load'} since you started",
                   "run one: aiops-lab load run --users 20 --duration 1m   (or aiops-lab load capacity)")
    path, data = runs[-1]
    total = data.get("total") or (data.get("knee") or {})
    ctx.steps.check(bool(total.get("requests")), "you ran a load test",
                    f"{path.parent.name}: {total.get('requests', 0)} requests, {total.get('rps', 0):.0f} rps",
                    "the run sent no request: is the lab healthy? (aiops-lab status)")


def measure_knee() -> float:
    """The knee (highest rps within the limits) measured now, like ``aiops-lab load capacity``."""
    from labs.load import runner
    from labs.load.capacity import CapacityPlan, find_capacity
    from labs.load.thresholds import Limits

    live.require("model-service")
    url = live.url("model-service")
    out = runner.new_report_dir("capacity-check")
    plan = CapacityPlan(START_USERS, MAX_USERS, STEP_S, BUDGET_S, Limits(MAX_FAILURE_RATIO, MAX_P99_MS))

    def make_run(users: int, step_dir: Path) -> runner.LoadRun:
        return runner.LoadRun(host=url, out_dir=step_dir, profile="steady", data="normal", users=users,
                              duration_s=STEP_S, shape_params="ramp_seconds=1", think_scale=THINK_SCALE,
                              reset_stats=True, html=False)

    info(f"measuring the knee now (at most {BUDGET_S:.0f} s; reports: {out})")
    result = find_capacity(plan, make_run, out, on_step=lambda s: info(
        f"  {s.users:4d} users: {s.rps:7.1f} rps  p99 {s.p99_ms:5.0f} ms  failures {s.failure_ratio:.2%}"))
    (out / "capacity.json").write_text(json.dumps(result.to_json(plan, url, "normal"), indent=2))
    if result.knee is None:
        raise Fail("capacity estimate", f"no step stayed within the limits ({result.reason})",
                   "the service is unhealthy or overloaded right now: aiops-lab status, revert fault flags, retry")
    return float(result.knee.rps)


def check_estimate(ctx: Context) -> None:
    data = ctx.answers(ANSWERS)
    estimate = answers.number(data, "max_rps", ctx.file(ANSWERS), "requests per second within the SLO")
    if estimate <= 0:
        raise Fail("max_rps", f"{estimate:g} is not a throughput", "requests per second, e.g. 420")
    knee = measure_knee()
    ctx.steps.check(close(estimate, knee, TOLERANCE), "capacity estimate",
                    f"you estimated {estimate:.0f} rps; measured now: {knee:.0f} rps (within {TOLERANCE:.0%} passes)",
                    "double the users step by step (aiops-lab load capacity) and take the highest throughput whose "
                    f"p99 stays <= {MAX_P99_MS:.0f} ms with <= {MAX_FAILURE_RATIO:.0%} failures; nothing else may run")


EXERCISES = (
    Exercise("load-test", "Run a load test against the lab", check_load_test),
    Exercise("estimate", "Estimate the sustainable throughput (within 20% of the knee)", check_estimate),
)
