"""One private lab per test module (``aiops-lab up -d`` on free ports), driven through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from labs.topology import COMPONENTS
from tests.support.polling import wait_until
from tests.support.processes import free_port

CLI = [sys.executable, "-m", "labs.cli"]


@dataclass
class Lab:
    env: dict[str, str]
    state: Path
    baseline_prometheus_yml: str = ""
    ttd: dict[str, float] = field(default_factory=dict)

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def url(self, component: str) -> str:
        return json.loads((self.state / "run" / "lab.json").read_text())["components"][component]["url"]

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {(self.state / 'admin-token').read_text().strip()}"}

    def journal(self) -> dict[str, Any] | None:
        path = self.state / "drills" / "current.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def pages_since(self, since: float) -> list[dict[str, Any]]:
        return httpx.get(self.url("pager") + "/pages", params={"since": since}, timeout=5).json()

    def flags(self) -> dict[str, Any]:
        return httpx.get(self.url("model-service") + "/admin/config", headers=self.admin, timeout=10).json()["flags"]


def _start_lab(state: Path) -> Lab:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env["AIOPS_STATE_DIR"] = str(state)
    env["COLUMNS"] = "200"  # rich wraps at 80 columns without a terminal; keep table cells on one line
    for comp in COMPONENTS:
        env[comp.port_env] = str(free_port())
    lab = Lab(env, state)
    started = lab.cli("up", "-d", "--timeout", "150")
    assert started.returncode == 0, started.stdout + started.stderr
    prom = lab.url("prometheus")
    wait_until(lambda: any(t["labels"].get("job") == "model-service" and t["health"] == "up"
                           for t in httpx.get(prom + "/api/v1/targets").json()["data"]["activeTargets"]),
               timeout=60, what="prometheus scraping the model service")
    lab.baseline_prometheus_yml = (state / "run" / "config" / "prometheus.yml").read_text()
    return lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, trained_registry: Path) -> Iterator[Lab]:
    state = tmp_path_factory.mktemp("drill-lab") / "state"
    shutil.copytree(trained_registry, state / "models")
    started_at = time.monotonic()
    lab = _start_lab(state)
    try:
        yield lab
    finally:
        lab.cli("drill", "stop")
        lab.cli("down")
        if lab.ttd:
            print(f"\nmeasured time to detect (s): {json.dumps(lab.ttd)}; module ran "
                  f"{time.monotonic() - started_at:.0f}s")
