"""A heavy job's lab runs at a higher CPU priority, so the rest of the suite need not stop for it.

A heavy drill (a traffic surge, a CPU burn) must saturate a core of the machine for its alert to fire. It
used to hold the pool's CPU gate exclusively, pausing every other test that starts processes -- measured:
~3 minutes of a 2-core machine at ~45 % use, the suite's single biggest hole. Renicing the heavy lab's
processes to ``BOOST_NICE`` gives them ~9x the CPU weight of everything else (CFS weights 9548 vs 1024), so
they get the core they need while the foreground's tests keep the rest, as on a learner's busy laptop.

The renice covers the threads *and* the sessions' autogroups (``aiops_core.cpu_priority`` says why: until
``ec337df`` it reniced threads only, which weigh nothing against other sessions, and the boost did nothing).
The suite's own session is never boosted: a CLI call forked from the suite's zygote is in it, and so the
suite itself would be.

Raising a priority needs root (CI runs as root); elsewhere ``can_boost()`` is False and the gate pauses the
foreground as before. Processes are found by the lab's state dir in their environment, rescanned every
``RESCAN_S`` because the drill starts new ones (its traffic, a surge) while it runs.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from aiops_core import cpu_priority
from tests.support import cli_fork

BOOST_NICE = -10
RESCAN_S = 0.5


def can_boost() -> bool:
    return hasattr(os, "setpriority") and os.geteuid() == 0


def lab_processes(state: Path) -> list[int]:
    """Every process whose environment names ``state`` as its lab's state dir, and the CLI calls forked for it
    (their ``/proc/PID/environ`` is the zygote's: ``tests.support.cli_fork``)."""
    marker = f"AIOPS_STATE_DIR={state}".encode()
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if marker in env.split(b"\0") and int(pid) != os.getpid():
            pids.append(int(pid))
    return pids + [pid for pid in cli_fork.running(state) if pid not in pids]


@contextlib.contextmanager
def boosted(state: Path) -> Iterator[None]:
    """While the block runs, the lab at ``state`` (and whatever it starts) runs at ``BOOST_NICE``."""
    done = threading.Event()
    seen: set[int] = set()

    def loop() -> None:
        while not done.is_set():
            for pid in lab_processes(state):
                seen.add(pid)
                cpu_priority.set_priority(pid, BOOST_NICE)
            done.wait(RESCAN_S)

    thread = threading.Thread(target=loop, name=f"boost-{state.parent.name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)
        for pid in seen:
            cpu_priority.set_priority(pid, 0)
