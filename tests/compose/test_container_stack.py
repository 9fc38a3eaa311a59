"""The background thread's scenario mechanics (tests/compose/container_stack.py), without an engine: the steps
run in order, every one whatever happened before it, and each test gets its own step's outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compose.container_stack import Background


def _background(ran: list[str]) -> Background:
    def ok(name: str):  # type: ignore[no-untyped-def]
        def step(state: Path) -> str:
            assert state.is_dir(), "every step gets the scenario's host state directory"
            ran.append(name)
            return f"{name} done"
        return step

    def broken(state: Path) -> str:
        ran.append("broken")
        raise AssertionError("the page never came")

    return Background([("first", ok("first")), ("broken", broken), ("last", ok("last"))], start=False)


def test_every_step_runs_in_order_and_reports_its_own_outcome() -> None:
    ran: list[str] = []
    stack = _background(ran)
    stack.result.returncode = 0
    stack._play()
    assert ran == ["first", "broken", "last"], "a failed step does not stop the ones after it (down must run)"
    assert stack.steps["first"].future.result(0) == "first done"
    assert stack.steps["last"].future.result(0) == "last done"
    with pytest.raises(AssertionError, match="the page never came"):
        stack.steps["broken"].future.result(0)


def test_a_failed_up_fails_every_step_at_once_without_running_them() -> None:
    ran: list[str] = []
    stack = _background(ran)
    stack.result.returncode = 1
    stack._play()
    assert ran == []
    for step in stack.steps.values():
        with pytest.raises(AssertionError, match=r"podman_stack\.py up failed"):
            step.future.result(0)
