"""Busy CPU hogs beside the test suite: a learner's laptop is never idle, so the suite must pass on a loaded
machine (``pytest --cpu-hogs 2``, or ``benchmarks/cpu_hogs.py`` beside any command).

Each hog is a separate process spinning on one core, in a session of its own, like a separate program on
the learner's laptop. That matters: where the kernel shares the CPU between sessions (autogroups, on by
default on Debian and on this project's machines), hogs in the suite's own session competed only with the
suite's process, while each lab component (its own session) kept its full share -- the "loaded" runs
loaded the labs far less than two other programs would. They are bounded: each stops by itself after
``max_s`` seconds or as soon as its parent (the test session) is gone, whichever comes first.
"""

from __future__ import annotations

import subprocess
import sys

_HOG = """
import os, sys, time
end = time.monotonic() + float(sys.argv[1])
parent = os.getppid()
while time.monotonic() < end and os.getppid() == parent:
    spin = time.monotonic() + 0.2
    while time.monotonic() < spin:
        pass
"""


def start(count: int, max_s: float = 3600.0) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` hogs; stop them with ``stop``."""
    return [subprocess.Popen([sys.executable, "-c", _HOG, str(max_s)], stdin=subprocess.DEVNULL,
                             start_new_session=True)
            for _ in range(count)]


def stop(hogs: list[subprocess.Popen[bytes]]) -> None:
    for hog in hogs:
        hog.kill()
    for hog in hogs:
        hog.wait(10)


if __name__ == "__main__":  # python -m tests.support.cpu_hogs N SECONDS: hogs in the foreground
    procs = start(int(sys.argv[1]) if len(sys.argv) > 1 else 2, float(sys.argv[2]) if len(sys.argv) > 2 else 3600)
    try:
        for p in procs:
            p.wait()
    except KeyboardInterrupt:
        stop(procs)
