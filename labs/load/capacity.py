"""Capacity test: double the users step by step until latency or errors cross a limit; report the knee.

Each step is its own short headless Locust run with ``--reset-stats``, so a step's numbers cover only its
steady part and never mix with the ramp or the previous step. The knee is the highest throughput among the
steps that stayed within the limits: the number to plan capacity and autoscaling thresholds with.
Stepping stops at the first breach, when doubling the users no longer buys throughput (saturated: more
users only queue), at the user cap, or when the time budget would be exceeded. After a breach one more step
halfway back to the last good one narrows the knee down, since doubling is coarse.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labs.load.runner import LoadRun, RunResult, run
from labs.load.thresholds import Limits

SATURATION_GAIN = 1.10  # doubling users must add at least 10% throughput, or the service is saturated
STEP_OVERHEAD_S = 4.0  # Locust start-up and shutdown per step, counted against the time budget


@dataclass
class Step:
    users: int
    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failure_ratio: float
    breaches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches

    @classmethod
    def from_summary(cls, users: int, total: dict[str, Any], limits: Limits) -> Step:
        breaches = limits.breaches(total) if total["requests"] else ["no requests completed"]
        return cls(users, total["requests"], total["rps"], total["p50_ms"], total["p95_ms"], total["p99_ms"],
                   total["failure_ratio"], breaches)


@dataclass
class CapacityPlan:
    start_users: int = 4
    max_users: int = 512
    step_s: float = 15.0
    budget_s: float = 300.0
    limits: Limits = field(default_factory=lambda: Limits(max_failure_ratio=0.01, max_p99_ms=250.0))

    def user_steps(self) -> Iterator[int]:
        users = self.start_users
        while users < self.max_users:
            yield users
            users *= 2
        yield self.max_users


def knee(steps: list[Step]) -> Step | None:
    """The highest-throughput step that stayed within the limits."""
    passing = [s for s in steps if s.ok]
    return max(passing, key=lambda s: s.rps) if passing else None


def stop_reason(steps: list[Step]) -> str | None:
    """Why stepping further is pointless after the last step, or None to keep going."""
    last = steps[-1]
    if not last.ok:
        return f"{last.users} users breached the limits: {'; '.join(last.breaches)}"
    if len(steps) >= 2 and steps[-2].ok and last.rps < steps[-2].rps * SATURATION_GAIN:
        return (f"saturated: {steps[-2].users} -> {last.users} users raised throughput only "
                f"{steps[-2].rps:.0f} -> {last.rps:.0f} rps")
    return None


@dataclass
class CapacityResult:
    steps: list[Step]
    reason: str
    knee: Step | None

    def to_json(self, plan: CapacityPlan, host: str, data: str) -> dict[str, Any]:
        return {
            "host": host,
            "data": data,
            "plan": {"start_users": plan.start_users, "max_users": plan.max_users, "step_s": plan.step_s,
                     "budget_s": plan.budget_s, "limits": asdict(plan.limits)},
            "steps": [{**asdict(s), "ok": s.ok} for s in self.steps],
            "stop_reason": self.reason,
            "knee": None if self.knee is None else {**asdict(self.knee), "ok": True},
        }


def refinement(steps: list[Step], min_gap: int = 4) -> int | None:
    """After a breach, the user count halfway back to the last good step (doubling is coarse), if any."""
    if len(steps) < 2 or steps[-1].ok or not steps[-2].ok:
        return None
    low, high = steps[-2].users, steps[-1].users
    return (low + high) // 2 if high - low >= min_gap else None


def find_capacity(plan: CapacityPlan, make_run: Callable[[int, Path], LoadRun], out_dir: Path,
                  on_step: Callable[[Step], None] | None = None,
                  run_step: Callable[[LoadRun], RunResult] = run) -> CapacityResult:
    """Run the steps in ``plan``; ``make_run(users, step_dir)`` describes one step's Locust run."""
    started = time.monotonic()
    steps: list[Step] = []

    def fits() -> bool:
        return time.monotonic() - started + plan.step_s + STEP_OVERHEAD_S <= plan.budget_s

    def measure(users: int) -> Step | None:
        result = run_step(make_run(users, out_dir / f"step-{len(steps) + 1:02d}-{users}-users"))
        if result.interrupted:
            return None
        if result.summary is None:
            raise RuntimeError(f"Locust did not finish the {users}-user step (exit {result.returncode}):\n"
                               f"{result.log_tail()}")
        step = Step.from_summary(users, result.summary["total"], plan.limits)
        steps.append(step)
        if on_step is not None:
            on_step(step)
        return step

    reason = f"reached --max-users {plan.max_users}"
    for users in plan.user_steps():
        if not fits():
            reason = f"time budget of {plan.budget_s:g}s spent"
            break
        if measure(users) is None:
            return CapacityResult(steps, "interrupted", knee(steps))
        why = stop_reason(steps)
        if why is not None:
            reason = why
            break
    mid = refinement(steps)
    if mid is not None and fits() and measure(mid) is None:
        reason = "interrupted"
    return CapacityResult(steps, reason, knee(steps))
