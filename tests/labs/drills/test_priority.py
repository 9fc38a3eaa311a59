"""The heavy job's boost (``tests/labs/drills/priority.py``) really renices the lab's processes, new ones too,
and gives the priority back afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
