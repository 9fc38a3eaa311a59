"""What a check reports: a list of steps, each passed or failed, with a hint on failure.

A check records the steps it verified with ``steps.ok`` and non-blocking failures with ``steps.fail``; a
failure that makes the rest meaningless (no answers file, a query that does not parse) is raised as
``Fail`` and ends the exercise there. The runner turns both into the same printed list, so a learner always
sees how far they got and what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Step(NamedTuple):
    """One line of a check's report: what was verified, whether it held, and on failure what to do next."""

    name: str
    passed: bool
    detail: str = ""
    hint: str = ""


class Fail(Exception):
    """A failed step after which the exercise cannot be judged further."""

    def __init__(self, name: str, detail: str, hint: str = "") -> None:
        super().__init__(f"{name}: {detail}")
        self.step = Step(name, False, detail, hint)


@dataclass
class Steps:
    items: list[Step] = field(default_factory=list)

    def ok(self, name: str, detail: str = "") -> None:
        self.items.append(Step(name, True, detail))

    def fail(self, name: str, detail: str, hint: str = "") -> None:
        self.items.append(Step(name, False, detail, hint))

    def check(self, condition: bool, name: str, detail: str, hint: str = "") -> bool:
        """Record ``name`` as passed or failed by ``condition``; returns it so callers can branch."""
        if condition:
            self.ok(name, detail)
        else:
            self.fail(name, detail, hint)
        return condition

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(s.passed for s in self.items)


def close(value: float, reference: float, rel: float, abs_tol: float = 0.0) -> bool:
    """``value`` within ``rel`` (relative) or ``abs_tol`` (absolute) of ``reference``."""
    return abs(value - reference) <= max(rel * abs(reference), abs_tol)
