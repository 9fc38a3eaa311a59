"""uvicorn's ``Server`` with a once-a-second tick: the lab's services cost almost nothing while idle.

Why: uvicorn's main loop wakes every 0.1 s, to refresh the ``Date`` header (once a second) and to notice a
shutdown request. On this project's VMs a wake-up of an idle Python process costs ~0.25 ms of CPU, so the
tick alone was ~2.5 ms of CPU a second in each of the lab's four Python services -- a quarter of an idle
lab's CPU (benchmarks/PROFILE.md, "Idle lab"). Ticking once a second still refreshes the header as often,
and a shutdown signal wakes the loop at once instead of waiting for the next tick, so SIGTERM is as prompt
as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import FrameType

import uvicorn

TICK_S = 1.0  # uvicorn refreshes the Date header every tenth 0.1-s tick: here, every tick


class QuietServer(uvicorn.Server):
    """``uvicorn.Server`` whose main loop sleeps ``TICK_S`` between ticks, or until ``handle_exit``."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            # uvicorn's own loop counts 0.1-s ticks and does the once-a-second work when counter % 10 == 0.
            counter = (counter + 10) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S)
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self.wake()

    def stop(self) -> None:
        """Shut down gracefully, as on SIGTERM (from any thread)."""
        self.should_exit = True
        self.wake()

    def wake(self) -> None:
        """Let the main loop look at ``should_exit`` now (from any thread, or a signal handler)."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing left to wake
                loop.call_soon_threadsafe(event.set)
