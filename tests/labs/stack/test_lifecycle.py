"""``aiops-lab up -d`` / ``status`` / ``service restart`` / ``down`` on free ports, with real processes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from aiops_core.polling import wait_until
from aiops_core.runstate import pid_alive
from tests.labs.stack.conftest import run_cli

pytestmark = pytest.mark.integration


def _lab_json(env: dict[str, str]) -> dict:
    return json.loads((Path(env["AIOPS_STATE_DIR"]) / "run" / "lab.json").read_text())


def test_up_status_restart_down_round_trip(lab_env: dict[str, str]) -> None:
    started = run_cli(lab_env, "up", "-d", "--timeout", "150")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        lab = _lab_json(lab_env)
        states = {name: c["state"] for name, c in lab["components"].items()}
        for required in ("model-service", "prometheus", "alertmanager"):
            assert states[required] == "healthy", states
        assert states["grafana"] in ("skipped", "healthy")
        svc = lab["components"]["model-service"]
        assert svc["port"] == int(lab_env["AIOPS_MODEL_SERVICE_PORT"])
        assert httpx.get(svc["url"] + "/readyz").json()["model_version"] == "v1"

        # Prometheus really scrapes the service it was configured for.
        prom = lab["components"]["prometheus"]["url"]
        wait_until(lambda: any(t["labels"].get("job") == "model-service" and t["health"] == "up"
                               for t in httpx.get(prom + "/api/v1/targets").json()["data"]["activeTargets"]),
                   timeout=60, what="prometheus scraping the model service")

        status = run_cli(lab_env, "status", "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        assert json.loads(status.stdout)["components"]["model-service"]["state"] == "healthy"

        again = run_cli(lab_env, "up", "-d")
        assert again.returncode == 5 and "already running" in again.stderr

        old_pid = svc["pid"]
        restarted = run_cli(lab_env, "service", "restart")
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        new_pid = _lab_json(lab_env)["components"]["model-service"]["pid"]
        assert new_pid != old_pid and not pid_alive(old_pid)
        assert httpx.get(svc["url"] + "/readyz").status_code == 200
    finally:
        pids = [c.get("pid") for c in _lab_json(lab_env)["components"].values()] if (
            Path(lab_env["AIOPS_STATE_DIR"]) / "run" / "lab.json").exists() else []
        stopped = run_cli(lab_env, "down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not (Path(lab_env["AIOPS_STATE_DIR"]) / "run" / "lab.json").exists()
    for pid in pids:
        assert pid is None or not pid_alive(pid), f"pid {pid} survived 'aiops-lab down'"
    after = run_cli(lab_env, "status")
    assert after.returncode == 3 and "aiops-lab up" in after.stderr


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
