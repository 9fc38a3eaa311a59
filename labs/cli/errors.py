"""One CLI error type and the exit codes it maps to. Tracebacks stay hidden unless AIOPS_DEBUG=1."""

from __future__ import annotations

from enum import IntEnum

import click


class ExitStatus(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # a check, threshold or drill verification did not pass
    USAGE = 2  # bad arguments or input files (click uses 2 too)
    NOT_RUNNING = 3  # a lab component is not reachable / not started
    MISSING_DEPENDENCY = 4  # a binary or package is not installed
    CONFLICT = 5  # the request contradicts lab state (e.g. nothing to roll back to)
    INTERNAL = 70


class LabError(click.ClickException):
    """An error the user can act on. ``message`` says what is wrong and the next command to run."""

    def __init__(self, message: str, status: ExitStatus = ExitStatus.USAGE) -> None:
        super().__init__(message)
        self.exit_code = int(status)

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.secho(f"error: {self.format_message()}", err=True, fg="red")
