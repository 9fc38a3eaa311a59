"""The suite's CPU hogs (``tests/support/cpu_hogs.py``) load the machine the way other programs would."""

from __future__ import annotations

import os

from aiops_core import cpu_priority
from aiops_core.polling import wait_until
from tests.support import cpu_hogs


def test_each_hog_spins_in_a_session_of_its_own_and_stops_when_told() -> None:
    """In the suite's session a hog competed only with the suite's own process wherever the kernel shares the
    CPU between sessions (autogroups): the labs, each component in its own session, hardly felt it."""
    hogs = cpu_hogs.start(2, max_s=60)
    try:
        sessions = {os.getsid(h.pid) for h in hogs}
        assert os.getsid(0) not in sessions and len(sessions) == 2, sessions
        wait_until(lambda: all(cpu_priority.cpu_seconds(h.pid) > 0.05 for h in hogs), timeout=30, interval=0.1,
                   what="both hogs spending CPU")
    finally:
        cpu_hogs.stop(hogs)
    assert all(h.returncode is not None for h in hogs)
