"""One way to build a private lab for a test: its own state dir and its own free port for every component.

Every test that runs ``aiops-lab`` (as a subprocess, like a learner's terminal, or in-process, which is
faster) builds its environment here, so no command can fall back to a default port and reach a lab the
test did not start (``tests.support.isolation``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from aiops_core import http as lab_http
from aiops_core.topology import BY_NAME, COMPONENTS, LOOPBACK
from tests.support import cli_fork
from tests.support.isolation import session_environment
from tests.support.ports import free_port
from tests.support.speed import scaled

CLI = [sys.executable, "-m", "labs.cli"]


def allocate_ports(count: int = 1) -> list[dict[str, str]]:
    """Distinct free ports for ``count`` labs (``AIOPS_<C>_PORT`` -> port), allocated up front so labs
    started side by side cannot collide."""
    used: set[int] = set()
    labs = []
    for _ in range(count):
        ports = {}
        for comp in COMPONENTS:
            port = free_port()
            while port in used:
                port = free_port()
            used.add(port)
            ports[comp.port_env] = str(port)
        labs.append(ports)
    return labs


def lab_environment(state: Path, ports: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The environment of a private lab: nothing inherited from ``AIOPS_*``/``LOCUST_*``, its own state dir,
    a port of its own for every component, and a wide terminal for rich's tables. The rest is the session's
    environment, not ``os.environ``: the pool builds labs in threads while tests monkeypatch it."""
    env = {k: v for k, v in session_environment().items() if not k.startswith(("AIOPS_", "LOCUST_"))}
    env.update({"AIOPS_STATE_DIR": str(state), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    env.update(ports if ports is not None else allocate_ports()[0])
    env.update(extra)
    return env


def normal(text: str) -> str:
    """Output with rich's line wrapping undone, for substring asserts."""
    return re.sub(r"\s+", " ", text)


@dataclass
class Lab:
    """A private lab's environment, and the CLI pointed at it."""

    env: dict[str, str]

    @classmethod
    def create(cls, state: Path, **extra: str) -> Lab:
        return cls(lab_environment(state, **extra))

    @property
    def state(self) -> Path:
        return Path(self.env["AIOPS_STATE_DIR"])

    def port(self, component: str) -> int:
        return int(self.env[BY_NAME[component].port_env])

    def url(self, component: str) -> str:
        """Where the component listens: the running lab's record when there is one, else its port."""
        record = self.state / "run" / "lab.json"
        if record.is_file():
            comps = json.loads(record.read_text()).get("components", {})
            if component in comps:
                return str(comps[component]["url"])
        return f"http://{LOOPBACK}:{self.port(component)}"

    def cli(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        """``aiops-lab ARGS`` as a separate process, like a learner's next command in a new terminal (forked
        from a warm interpreter: ``tests.support.cli_fork``). The timeout stretches with the machine's current
        load (``tests.support.speed``)."""
        return cli_fork.run(CLI, list(args), self.env, scaled(timeout))

    def run(self, *args: str) -> Result:
        """``aiops-lab ARGS`` in this process (no interpreter start-up, imports shared). ``.text`` is the
        output with line wrapping undone."""
        from labs.cli.main import cli

        result = CliRunner().invoke(cli, list(args), env=self.env, catch_exceptions=False)
        result.text = normal(result.output)  # type: ignore[attr-defined]
        return result

    def up(self, *args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
        started = self.cli("up", "-d", "--timeout", f"{timeout:.0f}", *args, timeout=timeout + 60)
        assert started.returncode == 0, f"aiops-lab up failed:\n{started.stdout}{started.stderr}"
        return started

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {(self.state / 'admin-token').read_text().strip()}"}

    def prometheus_targets(self) -> list[dict[str, Any]]:
        return list(lab_http.get(self.url("prometheus") + "/api/v1/targets", timeout=5).json()["data"]["activeTargets"])
