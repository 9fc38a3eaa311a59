"""A throw-away native lab for ``aiops-lab drill rehearse``: its own state dir, a free port for every
component, started with ``aiops-lab up -d`` and stopped and deleted afterwards.

The same recipe the test harness uses (``tests/support/lab.py``): nothing inherited from ``AIOPS_*``, so no
command can fall back to a default port and disturb the learner's own lab. The learner's trained models are
copied in when there are any (training a fresh model costs half a minute).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aiops_core import paths
from aiops_core.errors import ExitStatus, LabError
from aiops_core.runstate import component_url
from aiops_core.topology import COMPONENTS, LOOPBACK

CLI = [sys.executable, "-m", "labs.cli"]
UP_TIMEOUT_S = 150


def free_ports() -> dict[str, str]:
    """``AIOPS_<C>_PORT`` -> a port the kernel just handed out, distinct for every component."""
    held: list[socket.socket] = []
    try:
        ports = {}
        for comp in COMPONENTS:
            s = socket.socket()
            s.bind((LOOPBACK, 0))
            held.append(s)  # held until all are chosen, so no two components get the same one
            ports[comp.port_env] = str(s.getsockname()[1])
        return ports
    finally:
        for s in held:
            s.close()


def environment(state: Path, ports: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIOPS_", "LOCUST_"))}
    keep = {k: os.environ[k] for k in ("AIOPS_DRILLS_PATH", "AIOPS_CACHE_DIR", "AIOPS_DEBUG") if k in os.environ}
    env.update({"AIOPS_STATE_DIR": str(state), "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **keep, **ports})
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)


@dataclass
class EnvLab:
    """The lab this process's environment points at (``labs.drills.lab_state.DrillLab``), with ``env`` for
    the CLI commands it runs (``drill rehearse`` adds the drill's directory to ``AIOPS_DRILLS_PATH``)."""

    env: dict[str, str]

    @property
    def state(self) -> Path:
        return paths.state_dir()

    def url(self, component: str) -> str:
        return component_url(component)

    def cli(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return run_cli(self.env, *args, timeout=timeout)


@contextlib.contextmanager
def private_lab(keep: bool = False) -> Iterator[dict[str, str]]:
    """Start a private lab; yield its environment; stop it (and delete its state unless ``keep``)."""
    root = Path(tempfile.mkdtemp(prefix="aiops-rehearse-"))
    state = root / "state"
    models = paths.models_dir()
    if (models / "active.json").is_file():
        shutil.copytree(models, state / "models")
    env = environment(state, free_ports())
    started = run_cli(env, "up", "-d", "--mode", "lab", "--timeout", str(UP_TIMEOUT_S), timeout=UP_TIMEOUT_S + 90)
    try:
        if started.returncode != 0:
            raise LabError(f"the private lab did not start:\n{(started.stdout + started.stderr)[-1500:]}",
                           ExitStatus.NOT_RUNNING)
        yield env
    finally:
        run_cli(env, "drill", "stop", timeout=180)
        run_cli(env, "down", timeout=180)
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
