"""Stop a background process group the lab started (the drill's traffic, the fault scheduler), safely.

Both are started with ``start_new_session`` and remembered by pid in a journal that can outlive them, so the
pid may have been reused by the time someone stops them: ``ours(pid)`` (a command-line check) is asked before
every signal. SIGTERM first, SIGKILL after ``timeout``; a child of this process is reaped while waiting.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable

from aiops_core.runstate import pid_alive


def stop_group(pid: int | None, ours: Callable[[int], bool], timeout: float, poll: float = 0.1) -> bool:
    """Stop the group led by ``pid`` if it is still ours; False when there was nothing of ours to stop."""
    if not pid or not pid_alive(pid) or not ours(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and ours(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(poll)
    if pid_alive(pid) and ours(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    return True
