"""``aiops_core.cpu_priority``: a priority that holds against other sessions, never the caller's own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from aiops_core import cpu_priority
from aiops_core.polling import wait_until

needs_autogroups = pytest.mark.skipif(cpu_priority.autogroup_nice(os.getpid()) is None,
                                      reason="no session autogroups on this kernel")


def _sleeper(**kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], **kwargs)  # type: ignore[call-overload]


def test_descendants_are_found_down_the_tree() -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                               "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
                               "time.sleep(60)"])
    try:
        found = wait_until(lambda: len(cpu_priority.descendants(parent.pid)) == 1 and cpu_priority.descendants(
            parent.pid), timeout=20, interval=0.05, what="the grandchild started")
        assert parent.pid not in found and parent.pid in cpu_priority.descendants(os.getpid())
        assert set(found) <= set(cpu_priority.descendants(os.getpid()))
    finally:
        for pid in cpu_priority.descendants(parent.pid):
            os.kill(pid, 9)
        parent.kill()
        parent.wait()


@needs_autogroups
def test_a_process_of_another_session_gets_its_threads_and_its_autogroup_niced() -> None:
    """A lower priority (a positive nice) needs no root, so this runs everywhere autogroups exist."""
    own = cpu_priority.autogroup_nice(os.getpid())
    other = _sleeper(start_new_session=True)
    try:
        cpu_priority.set_priority(other.pid, 7)
        assert cpu_priority.autogroup_nice(other.pid) == 7
        assert os.getpriority(os.PRIO_PROCESS, other.pid) == 7
        assert cpu_priority.autogroup_nice(os.getpid()) == own
    finally:
        other.kill()
        other.wait()


@needs_autogroups
def test_the_callers_own_session_is_never_reprioritised() -> None:
    """A child in the caller's session gets its threads niced, but the session's autogroup -- the caller's,
    and everything else in it -- is left alone."""
    own = cpu_priority.autogroup_nice(os.getpid())
    child = _sleeper()
    try:
        cpu_priority.set_priority(child.pid, 9)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == 9
        assert cpu_priority.autogroup_nice(child.pid) == own == cpu_priority.autogroup_nice(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_cpu_seconds_counts_what_a_process_spent_and_nothing_while_it_sleeps() -> None:
    spinner = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
                                "while time.process_time() < end: pass\ntime.sleep(60)"])
    try:
        spent = wait_until(lambda: (s := cpu_priority.cpu_seconds(spinner.pid)) >= 0.3 and s, timeout=30,
                           interval=0.05, what="the spinner's 0.3 CPU-s")
        assert spent < 2.0  # it then sleeps: the count stops growing
        assert cpu_priority.cpu_seconds(spinner.pid) < 2.0
    finally:
        spinner.kill()
        spinner.wait()


def test_a_process_that_is_gone_is_no_error() -> None:
    gone = _sleeper()
    gone.kill()
    gone.wait()
    cpu_priority.set_priority(gone.pid, 5)
    assert cpu_priority.autogroup_nice(gone.pid) is None
