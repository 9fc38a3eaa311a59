"""``aiops-lab up`` / ``status`` / ``up`` again / ``service restart`` / ``down``, on a real lab.

A job of the drill pool: the pool's worker brought its lab up with ``aiops-lab up -d`` on free ports (and
waited for Prometheus to scrape the service), so this job checks what ``up`` left behind, then restarts the
service and stops the lab -- the last thing that lab does. ``test_lifecycle.py`` reports the outcome.
"""

from __future__ import annotations

import json

import httpx

from aiops_core.runstate import pid_alive
from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job


def _lab_json(lab: Lab) -> dict:
    return json.loads((lab.state / "run" / "lab.json").read_text())


def up_status_restart_down(lab: Lab) -> None:
    record = _lab_json(lab)
    states = {name: c["state"] for name, c in record["components"].items()}
    for required in ("model-service", "prometheus", "alertmanager"):
        assert states[required] == "healthy", states
    assert states["grafana"] in ("skipped", "healthy")
    svc = record["components"]["model-service"]
    assert svc["port"] == lab.port("model-service")
    assert httpx.get(svc["url"] + "/readyz", timeout=5).json()["model_version"] == "v1"
    assert any(t["labels"].get("job") == "model-service" and t["health"] == "up" for t in lab.prometheus_targets())

    status = lab.cli("status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    assert json.loads(status.stdout)["components"]["model-service"]["state"] == "healthy"

    again = lab.cli("up", "-d")
    assert again.returncode == 5 and "already running" in again.stderr

    old_pid = svc["pid"]
    restarted = lab.cli("service", "restart")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    new_pid = _lab_json(lab)["components"]["model-service"]["pid"]
    assert new_pid != old_pid and not pid_alive(old_pid)
    assert httpx.get(svc["url"] + "/readyz", timeout=5).status_code == 200

    pids = [c.get("pid") for c in _lab_json(lab)["components"].values()]
    stopped = lab.cli("down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not (lab.state / "run" / "lab.json").exists()
    for pid in pids:
        assert pid is None or not pid_alive(pid), f"pid {pid} survived 'aiops-lab down'"
    after = lab.cli("status")
    assert after.returncode == 3 and "aiops-lab up" in after.stderr


JOBS = [Job("lifecycle: up, status, restart, down", up_status_restart_down, cost_s=25, last=True)]
