"""``aiops-lab up -d`` / ``status`` / ``service restart`` / ``down`` on free ports, with real processes; and
``up`` on a machine without the Prometheus binaries."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.labs.drills.jobs import DrillPool
from tests.labs.stack.conftest import run_cli
from tests.labs.stack.round_trip import JOBS as ROUND_TRIP

pytestmark = pytest.mark.integration


def _lab_json(env: dict[str, str]) -> dict:
    return json.loads((Path(env["AIOPS_STATE_DIR"]) / "run" / "lab.json").read_text())


@pytest.mark.pool(ROUND_TRIP[0].name)
def test_up_status_restart_down_round_trip(drill_pool: DrillPool) -> None:
    """Played on one of the drill pool's labs (``round_trip.py``): ``up`` is how every pool lab starts."""
    [job] = ROUND_TRIP
    drill_pool.outcome(job.name)


def test_missing_prometheus_binary_is_reported_and_the_rest_starts(lab_env: dict[str, str]) -> None:
    venv_bin = os.path.dirname(os.path.abspath(os.sys.executable))
    env = {**lab_env, "PATH": venv_bin}  # no /usr/bin: prometheus and alertmanager are "not installed"
    started = run_cli(env, "up", "-d", "--timeout", "120")
    try:
        lab = _lab_json(env)
        prom = lab["components"]["prometheus"]
        assert prom["state"] == "skipped"
        assert "apt-get install -y prometheus prometheus-alertmanager" in prom["detail"]
        assert lab["components"]["model-service"]["state"] == "healthy"
        assert started.returncode == 0, started.stdout + started.stderr
    finally:
        run_cli(env, "down")
