"""Runtime actions on the native lab: signals to the supervised processes, restarts via the supervisor."""

from __future__ import annotations

import os
import signal

from aiops_core.runstate import ComponentRecord, RunState, pid_alive
from labs.runtime.base import RuntimeError_
from labs.stack import supervisor


class NativeRuntime:
    name = "native"

    def _record(self, component: str) -> ComponentRecord:
        state = RunState.load()
        if state is None or not state.alive():
            raise RuntimeError_("the lab is not running; start it with: aiops-lab up")
        rec = state.components.get(component)
        if rec is None or rec.pid is None:
            raise RuntimeError_(f"{component} is not a running component of this lab")
        return rec

    def _signal(self, component: str, sig: signal.Signals) -> None:
        rec = self._record(component)
        try:
            os.killpg(rec.pid, sig)  # the supervisor starts each component in its own process group
        except ProcessLookupError:
            raise RuntimeError_(f"{component} (pid {rec.pid}) is not running") from None

    def is_running(self, component: str) -> bool:
        try:
            rec = self._record(component)
        except RuntimeError_:
            return False
        if not pid_alive(rec.pid):
            return False
        try:
            with open(f"/proc/{rec.pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] not in ("T", "t", "Z")
        except OSError:
            return False

    def started_at(self, component: str) -> float | None:
        import psutil

        try:
            return psutil.Process(self._record(component).pid).create_time()
        except (RuntimeError_, psutil.Error):
            return None

    def kill(self, component: str) -> None:
        self._signal(component, signal.SIGKILL)

    def pause(self, component: str) -> None:
        self._signal(component, signal.SIGSTOP)

    def resume(self, component: str) -> None:
        self._signal(component, signal.SIGCONT)

    def restart(self, component: str) -> None:
        result = supervisor.request("restart", component)
        if not result.get("ok"):
            raise RuntimeError_(f"restart of {component} failed: {result.get('error') or result.get('detail')}")
