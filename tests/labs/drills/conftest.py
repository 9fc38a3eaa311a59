"""The drill tests' shared pieces: assertion rewriting for the harness modules, and the TTD table."""

from __future__ import annotations

import pytest

# The scenario's and the pool's asserts run in worker threads; rewritten, they say what differed.
pytest.register_assert_rewrite("tests.labs.drills.scenario", "tests.labs.drills.steps", "tests.labs.drills.plans",
                              "tests.labs.drills.lab", "tests.labs.drills.pool")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.labs.drills import ttd

    if ttd.LINES:
        terminalreporter.section("drill time to detect / time to mitigate")
        for line in ttd.LINES:
            terminalreporter.write_line(line)
