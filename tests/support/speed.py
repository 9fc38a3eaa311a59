"""Deadlines from measured machine speed: a busy machine gets proportionally more time, never less.

``slowdown()`` measures, right now, how much of a core this process gets: it spins for a few milliseconds
of CPU time and compares that with the wall time it took. On an idle machine the two are equal (1.0);
beside two CPU hogs on two cores it is about 1.5-2; beside the drill pool's labs it can be more. Nothing is
calibrated against another machine, so a fast laptop and a slow CI runner both read 1.0 when idle.
"""

from __future__ import annotations

import time

MAX_SLOWDOWN = 8.0


def slowdown(cpu_s: float = 0.02) -> float:
    """Wall time / CPU time of a short busy loop (1.0 = a whole core), clamped to [1, MAX_SLOWDOWN]."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while time.process_time() - cpu0 < cpu_s:
        pass
    ratio = (time.perf_counter() - wall0) / max(time.process_time() - cpu0, 1e-6)
    return min(max(ratio, 1.0), MAX_SLOWDOWN)


def scaled(seconds: float) -> float:
    """``seconds`` stretched by the machine's current slowdown (a deadline for CPU-bound work)."""
    return seconds * slowdown()
