"""What one drill run is made of: the plan that adapts the generic scenario to a drill, the run's record
that hooks read and extend, and the result the pool collects."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from labs.drills.schema import Drill
from tests.labs.drills.lab import Lab


@dataclass
class Run:
    """What happened in one drill run (the hooks read and extend it)."""

    drill: Drill
    lab: Lab
    injected_at: float = 0.0
    page: str = ""  # the expected alert that paged, or "ack"
    ttd_page_s: float | None = None  # injection -> page in the pager, as the harness saw it
    report: dict[str, Any] = field(default_factory=dict)
    check_output: str = ""
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds it took
    _mark: float = field(default_factory=time.monotonic)

    def phase(self, name: str) -> None:
        """Close the current phase (timings show where a drill's minutes go)."""
        now = time.monotonic()
        self.phases[name] = round(now - self._mark, 1)
        self._mark = now


Hook = Callable[[Lab, Run], None]


@dataclass(frozen=True)
class Plan:
    """What a drill needs beyond its catalogue entry (all optional)."""

    after_start: Hook | None = None  # extra assertions right after the fault is in
    after_page: Hook | None = None  # after the page (or ack), before the first failing check
    wrong_move: Hook | None = None  # a wrong lever before the real mitigation: the check must keep failing
    manual_steps: Hook | None = None  # replaces mitigation lines that are instructions, not commands
    after_report: Hook | None = None  # extra assertions on the report
    expect_wrong_actions: int = 0
    check_timeout_s: float | None = None
    quiet_lab: bool = False  # start on a lab without other traffic in the expected alert's lookback window


@dataclass
class DrillResult:
    drill: str
    lab: str
    page: str
    ttd_page_s: float | None
    ttd_s: float | None
    ttm_s: float | None
    detected_by: str
    score: int | None
    wrong_actions: list[str]
    seconds: float
    phases: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __str__(self) -> str:
        steps = ", ".join(f"{k} {v:.0f}s" for k, v in self.phases.items())
        return f"page {self.page} TTD {self.ttd_s} TTM {self.ttm_s} [{steps}]"
