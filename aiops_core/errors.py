"""One error hierarchy for the whole lab, and the exit statuses the CLI turns it into.

Every error a learner can act on is a ``LabError``: its message says what is wrong and the next command to
run, its ``status`` says which exit code the CLI returns. Domain errors (registry, config, catalogue,
Prometheus, ...) subclass it with their own default status. Nothing here knows click: ``labs.cli.main`` is
the one place that prints these and exits, and it hides tracebacks unless ``AIOPS_DEBUG=1``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # a check, threshold or drill verification did not pass
    USAGE = 2  # bad arguments or input files (click uses 2 too)
    NOT_RUNNING = 3  # a lab component is not reachable / not started
    MISSING_DEPENDENCY = 4  # a binary or package is not installed
    CONFLICT = 5  # the request contradicts lab state (e.g. nothing to roll back to)
    INTERNAL = 70


class LabError(Exception):
    """An error the user can act on. The message says what is wrong and the next command to run."""

    status: ExitStatus = ExitStatus.USAGE

    def __init__(self, message: str, status: ExitStatus | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    @property
    def exit_code(self) -> int:
        return int(self.status)


class NotRunning(LabError):
    """A lab component does not answer (or answered 5xx): the next step is starting or fixing it."""

    status = ExitStatus.NOT_RUNNING


class Conflict(LabError):
    """The request contradicts the lab's state (nothing to roll back to, no drill running, ...)."""

    status = ExitStatus.CONFLICT


class MissingDependency(LabError):
    """A binary or package the command needs is not installed."""

    status = ExitStatus.MISSING_DEPENDENCY


class CheckFailed(LabError):
    """A check, threshold or verification did not pass."""

    status = ExitStatus.CHECK_FAILED
