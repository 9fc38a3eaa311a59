"""``aiops-lab up -d`` / ``status`` / ``service restart`` / ``down`` on free ports, with real processes; and
``up`` on a machine without the Prometheus binaries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from aiops_core.polling import wait_until
from aiops_core.runstate import pid_alive
from tests.labs.drills.jobs import DrillPool
from tests.labs.stack.conftest import run_cli
from tests.labs.stack.round_trip import JOBS as ROUND_TRIP
from tests.support.lab import CLI
from tests.support.speed import scaled

pytestmark = pytest.mark.integration


def _lab_json(env: dict[str, str]) -> dict:
    return json.loads((Path(env["AIOPS_STATE_DIR"]) / "run" / "lab.json").read_text())


@pytest.mark.pool(ROUND_TRIP[0].name)
def test_up_status_restart_down_round_trip(drill_pool: DrillPool) -> None:
    """Played on one of the drill pool's labs (``round_trip.py``): ``up`` is how every pool lab starts."""
    [job] = ROUND_TRIP
    drill_pool.outcome(job.name)


def test_missing_prometheus_binary_is_reported_and_the_rest_starts(lab_env: dict[str, str]) -> None:
    """A machine without the Prometheus binaries still gets the rest of the lab; and a foreground ``up`` that
    is sent SIGTERM (``timeout``, ``kill``, a closed terminal) stops its lab like Ctrl-C does -- it used to
    leave every component running, orphaned, on the lab's ports."""
    venv_bin = os.path.dirname(os.path.abspath(os.sys.executable))
    env = {**lab_env, "PATH": venv_bin}  # no /usr/bin: prometheus and alertmanager are "not installed"
    up = subprocess.Popen([*CLI, "up", "--timeout", "120"], env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(iter(up.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        # Started once `up` itself says so (lab.json can say it a moment before `up` has seen it).
        wait_until(lambda: _started(up, printed), timeout=scaled(150), interval=0.5,
                   what="the foreground lab to start")
        lab = _lab_json(env)
        prom = lab["components"]["prometheus"]
        assert prom["state"] == "skipped"
        assert "apt-get install -y prometheus prometheus-alertmanager" in prom["detail"]
        assert lab["components"]["model-service"]["state"] == "healthy"
        pids = [lab["supervisor_pid"], *(c["pid"] for c in lab["components"].values() if c.get("pid"))]
        assert len(pids) >= 4, lab
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=scaled(90))
        reader.join(10)
        out = "".join(printed)
        assert up.returncode == 0, out
        assert "lab stopped" in out, out
        assert not [p for p in pids if pid_alive(p)], f"still running after SIGTERM to `up`: {pids}\n{out}"
    finally:
        if up.poll() is None:
            up.kill()
        run_cli(env, "down")


def _started(up: subprocess.Popen[str], printed: list[str]) -> bool:
    assert up.poll() is None, f"`up` exited early ({up.returncode}):\n{''.join(printed)}"
    return "press Ctrl-C to stop the lab" in "".join(printed)
