"""The process runtime: how the drill engine kills, pauses and restarts lab components.

Two implementations share this interface: ``NativeRuntime`` (processes supervised by ``aiops-lab up``) and
``DockerRuntime`` (containers of the compose project, through the Docker SDK). Drills name components by
their topology name ("model-service", "prometheus", ...), never by pid or container id.
"""

from __future__ import annotations

from typing import Protocol

from aiops_core import runstate
from aiops_core.errors import CheckFailed


class RuntimeError_(CheckFailed):
    """A runtime action failed; the message names the component and what to do."""


class Runtime(Protocol):
    name: str

    def is_running(self, component: str) -> bool:
        """True when the component's process/container exists and is not paused."""

    def kill(self, component: str) -> None:
        """Crash it (SIGKILL / docker kill): no graceful shutdown, like an OOM kill."""

    def pause(self, component: str) -> None:
        """Freeze it (SIGSTOP / docker pause): the port stays open but nothing answers -- a hung process."""

    def resume(self, component: str) -> None:
        """Undo ``pause`` (SIGCONT / docker unpause)."""

    def started_at(self, component: str) -> float | None:
        """When the component's current process/container started (epoch s); ``None`` if it is not there.

        The drill engine compares it with the value at drill start to see restarts the learner made."""

    def restart(self, component: str) -> None:
        """Stop and start it again and wait until healthy (the learner's ``aiops-lab service restart``)."""


def get_runtime(target: str | None = None) -> Runtime:
    """The runtime for ``--target native|compose`` (default: ``AIOPS_TARGET``, else native)."""
    target = target or runstate.target()
    if target == "native":
        from labs.runtime.native import NativeRuntime

        return NativeRuntime()
    if target == "compose":
        from labs.runtime.docker import DockerRuntime

        return DockerRuntime()
    raise RuntimeError_(f"unknown target {target!r}; use native or compose")
