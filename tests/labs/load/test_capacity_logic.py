"""How the capacity test decides where to stop and which step is the knee."""

from __future__ import annotations

from labs.load.capacity import CapacityPlan, Step, knee, refinement, stop_reason
from labs.load.thresholds import Limits

LIMITS = Limits(max_failure_ratio=0.01, max_p99_ms=250.0)


def step(users: int, rps: float, p99: float = 20.0, failures: float = 0.0) -> Step:
    total = {"requests": int(rps * 10), "rps": rps, "p50_ms": 2.0, "p95_ms": p99 / 2, "p99_ms": p99,
             "failure_ratio": failures}
    return Step.from_summary(users, total, LIMITS)


def test_users_double_up_to_the_cap() -> None:
    assert list(CapacityPlan(start_users=4, max_users=40).user_steps()) == [4, 8, 16, 32, 40]
    assert list(CapacityPlan(start_users=4, max_users=32).user_steps()) == [4, 8, 16, 32]
    assert list(CapacityPlan(start_users=5, max_users=5).user_steps()) == [5]


def test_keeps_stepping_while_throughput_grows_within_limits() -> None:
    assert stop_reason([step(4, 100)]) is None
    assert stop_reason([step(4, 100), step(8, 190)]) is None


def test_stops_at_the_first_breach_and_the_knee_is_the_best_passing_step() -> None:
    steps = [step(4, 100), step(8, 190), step(16, 300, p99=400)]
    assert "p99 400 ms > 250 ms" in (stop_reason(steps) or "")
    assert knee(steps) == steps[1]


def test_errors_breach_too() -> None:
    steps = [step(4, 100), step(8, 150, failures=0.05)]
    assert "failure ratio 5.00% > 1.00%" in (stop_reason(steps) or "")
    assert knee(steps) == steps[0]


def test_saturation_stops_when_doubling_users_buys_no_throughput() -> None:
    steps = [step(4, 100), step(8, 180), step(16, 185)]
    assert (stop_reason(steps) or "").startswith("saturated")
    assert knee(steps) == steps[2]  # within limits and the highest rps seen


def test_no_knee_when_even_the_first_step_breaches() -> None:
    steps = [step(4, 50, p99=900)]
    assert stop_reason(steps) is not None
    assert knee(steps) is None


def test_a_step_without_requests_is_a_breach() -> None:
    s = Step.from_summary(4, {"requests": 0, "rps": 0.0, "p50_ms": 0, "p95_ms": 0, "p99_ms": 0,
                              "failure_ratio": 0.0}, LIMITS)
    assert not s.ok and s.breaches == ["no requests completed"]


def test_after_a_breach_one_step_halfway_back_narrows_the_knee() -> None:
    assert refinement([step(32, 400), step(64, 700), step(128, 800, p99=400)]) == 96
    assert refinement([step(4, 100), step(8, 150, p99=400)]) == 6
    assert refinement([step(2, 50), step(4, 90, p99=400)]) is None  # too close to split
    assert refinement([step(4, 100), step(8, 190)]) is None  # no breach, nothing to narrow
    assert refinement([step(4, 100, p99=400)]) is None
