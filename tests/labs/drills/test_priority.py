"""The heavy job's boost (``tests/labs/drills/priority.py``) really renices the lab's processes, new ones too,
and gives the priority back afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aiops_core import cpu_priority
from aiops_core.polling import wait_until
from tests.labs.drills import priority

pytestmark = pytest.mark.skipif(not priority.can_boost(), reason="raising a priority needs root (CI runs as root)")


def _sleeper(state: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, AIOPS_STATE_DIR=str(state))
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env)


def test_every_process_of_the_lab_is_boosted_while_the_job_runs_and_restored_after(tmp_path: Path) -> None:
    lab, other = tmp_path / "lab" / "state", tmp_path / "other" / "state"
    before, bystander = _sleeper(lab), _sleeper(other)
    try:
        with priority.boosted(lab):
            after = _sleeper(lab)  # started by the drill while it runs: found by the rescan
            try:
                wait_until(lambda: os.getpriority(os.PRIO_PROCESS, after.pid) == priority.BOOST_NICE, timeout=10,
                           interval=0.1, what="the process started during the job boosted")
                assert os.getpriority(os.PRIO_PROCESS, before.pid) == priority.BOOST_NICE
                assert os.getpriority(os.PRIO_PROCESS, bystander.pid) == 0
            finally:
                after.kill()
                after.wait()
        assert os.getpriority(os.PRIO_PROCESS, before.pid) == 0
    finally:
        for proc in (before, bystander):
            proc.kill()
            proc.wait()


def _spinner(state: Path, cpu: int) -> subprocess.Popen[bytes]:
    """A busy process pinned to ``cpu``, in a session of its own like every lab component (and every app on a
    learner's laptop)."""
    env = dict(os.environ, AIOPS_STATE_DIR=str(state))
    return subprocess.Popen([sys.executable, "-c", "while True: pass"], env=env, start_new_session=True,
                            preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))



@pytest.mark.skipif(cpu_priority.autogroup_nice(os.getpid()) is None, reason="no session autogroups on this kernel")
def test_the_boosted_lab_gets_the_core_against_a_busy_process_of_another_session(tmp_path: Path) -> None:
    """On a kernel that shares the CPU between sessions, renicing threads alone changes nothing: both spinners
    got half the core (2.0 and 2.0 CPU-s in 4 s) until the boost set the session's autogroup too. The suite's
    own session (where the CPU hogs and the forked CLI calls live) is never boosted."""
    core = max(os.sched_getaffinity(0))
    lab, other = tmp_path / "lab" / "state", tmp_path / "other" / "state"
    boosted_proc, rival = _spinner(lab, core), _spinner(other, core)
    own_before = cpu_priority.autogroup_nice(os.getpid())
    try:
        with priority.boosted(lab):
            wait_until(lambda: cpu_priority.autogroup_nice(boosted_proc.pid) == priority.BOOST_NICE, timeout=10,
                       interval=0.1, what="the lab's session boosted")
            assert cpu_priority.autogroup_nice(rival.pid) == 0
            assert cpu_priority.autogroup_nice(os.getpid()) == own_before
            cpu = cpu_priority.cpu_seconds
            start = cpu(boosted_proc.pid), cpu(rival.pid)
            # Enough CPU time for the shares to show over the clock tick; bounded for a very slow machine.
            wait_until(lambda: cpu(boosted_proc.pid) - start[0] + cpu(rival.pid) - start[1] >= 2.0,
                       timeout=60, interval=0.2, what="two CPU-seconds spent on the shared core")
            got, rival_got = cpu(boosted_proc.pid) - start[0], cpu(rival.pid) - start[1]
        assert got > 3 * rival_got, f"boosted lab {got:.2f} CPU-s, the other session {rival_got:.2f}"
        assert cpu_priority.autogroup_nice(boosted_proc.pid) == 0  # given back
    finally:
        for proc in (boosted_proc, rival):
            proc.kill()
            proc.wait()
