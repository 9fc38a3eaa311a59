"""Fixtures for the curriculum: a private state dir, the ``aiops-lab`` CLI in-process, and ONE shared lab.

The lab (``aiops-lab up -d`` on free ports) is started once and shared by every live test: starting it
costs ~10 s, and the checks only need it running. Tests that must not see each other's progress use
different curriculum modules (each module has its own progress and workspace).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aiops_core.topology import COMPONENTS
from labs.cli.main import cli
from tests.support.processes import free_port

CLI = [sys.executable, "-m", "labs.cli"]


def normal(text: str) -> str:
    """Output with rich's line wrapping undone, for substring asserts."""
    return re.sub(r"\s+", " ", text)


@dataclass
class Lab:
    """A state dir and the environment that points every command at it."""

    env: dict[str, str]

    @property
    def state(self) -> Path:
        return Path(self.env["AIOPS_STATE_DIR"])

    def workspace(self, module: str) -> Path:
        return self.state / "workspace" / module

    def url(self, component: str) -> str:
        port = self.env[f"AIOPS_{component.upper().replace('-', '_')}_PORT"]
        return f"http://127.0.0.1:{port}"

    def run(self, *args: str) -> Result:
        """``aiops-lab ARGS`` in this process (fast: no interpreter start-up, imports are shared)."""
        result = CliRunner().invoke(cli, list(args), env=self.env, catch_exceptions=False)
        result.text = normal(result.output)  # type: ignore[attr-defined]
        return result

    def subprocess(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        """``aiops-lab ARGS`` as a separate process, like a learner's next command in a new terminal."""
        return subprocess.run([*CLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)


def make_env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env["AIOPS_STATE_DIR"] = str(state)
    env["COLUMNS"] = "200"
    for comp in COMPONENTS:
        env[comp.port_env] = str(free_port())
    return env


@pytest.fixture
def offline(tmp_path: Path) -> Lab:
    """A state dir with no lab running (every component's port is free)."""
    return Lab(make_env(tmp_path / "state"))


@pytest.fixture(scope="module")
def live_lab(tmp_path_factory: pytest.TempPathFactory, trained_registry: Path) -> Iterator[Lab]:
    """One real lab per test module (only test_live.py uses it): service, Prometheus, Alertmanager, drift, pager.

    Module scope, not session: the lab stops as soon as its tests are done instead of idling (scraping every
    2 s, running drift reports) through the rest of the suite.
    """
    state = tmp_path_factory.mktemp("curriculum-lab") / "state"
    shutil.copytree(trained_registry, state / "models")
    lab = Lab(make_env(state))
    started = lab.subprocess("up", "-d", "--timeout", "150")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield lab
    finally:
        stopped = lab.subprocess("down")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
