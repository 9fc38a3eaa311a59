"""Event-loop lag: the queueing in front of every handler, which the request-duration histogram cannot see.

The request histogram is timed from the moment a handler starts. A request that is ready but waits for the
event loop -- behind another request burning CPU on it, a blocking call, a garbage-collector pause, or a
CPU hog elsewhere on the machine that keeps this process off the core -- spends that wait *before* the
timer starts. An SRE measured 148 ms of client-side p99 from a CPU hog that the service's own latency
histogram never showed.

So a tiny task asks the loop to wake it every ``metrics.LOOP_LAG_INTERVAL_SECONDS`` (0.1 s) and records how
late the wake-up came: the delay any request ready at that moment suffered too. Cost: ten timer wake-ups a
second, nothing per request (the hot path is untouched). A sample of 0.4 s means the loop was unavailable
for ~0.4 s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from model_service import metrics


async def watch(interval_s: float = metrics.LOOP_LAG_INTERVAL_SECONDS,
                observe: Callable[[float], None] = metrics.EVENT_LOOP_LAG.observe) -> None:
    """Sample the loop's lag forever (until cancelled)."""
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + interval_s
        await asyncio.sleep(interval_s)
        observe(max(0.0, loop.time() - expected))


def start() -> asyncio.Task[None]:
    """The watcher as a task of the running loop (the app's lifespan starts and stops it)."""
    return asyncio.get_running_loop().create_task(watch(), name="event-loop-lag")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
