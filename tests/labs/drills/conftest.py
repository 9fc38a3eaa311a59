"""The drill tests' shared pieces: the TTD table (assertion rewriting of the harness: tests/conftest.py)."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.labs.drills import ttd

    if ttd.LINES:
        terminalreporter.section("drill time to detect / time to mitigate")
        for line in ttd.LINES:
            terminalreporter.write_line(line)
