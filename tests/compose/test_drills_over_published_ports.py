"""The drill engine driving a lab it reaches only over the network, as it drives the compose stack.

No Docker engine exists on this machine, so the stack under test is the real native lab (same processes,
same configs), and the engine runs with ``--target compose`` and its own, *separate* host state directory:
it finds every component through the published ports (``AIOPS_<NAME>_PORT``), authenticates with
``AIOPS_ADMIN_TOKEN`` from ``.env``, and may not touch the lab's files (in compose they are volumes the host
cannot see). A drill played end to end this way proves the compose path of everything except the container
actions themselves, which ``tests/compose/test_docker_runtime.py`` runs against a real engine when one
exists. Process faults here reach ``DockerRuntime`` and must fail cleanly, rolled back, naming Docker.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aiops_core.polling import wait_until
from aiops_core.topology import BY_NAME, COMPONENTS
from tests.support.lab import CLI, Lab, lab_environment

pytestmark = pytest.mark.integration


@dataclass
class Stack:
    lab_env: dict[str, str]  # how `aiops-lab up` ran it (stands in for `docker compose up`)
    host_env: dict[str, str]  # the learner's shell on the host: published ports + .env, own state dir
    lab_state: Path
    host_state: Path

    def host(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "--target", "compose", *args], env=self.host_env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.lab_env[BY_NAME[name].port_env]}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, trained_registry: Path) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("compose-like")
    lab_state, host_state = root / "lab-state", root / "host-state"
    shutil.copytree(trained_registry, lab_state / "models")
    host_state.mkdir()
    lab = Lab.create(lab_state)
    lab.up()
    token = (lab_state / "admin-token").read_text().strip()
    ports = {comp.port_env: lab.env[comp.port_env] for comp in COMPONENTS}
    host_env = lab_environment(host_state, ports, AIOPS_ADMIN_TOKEN=token)
    s = Stack(lab.env, host_env, lab_state, host_state)
    wait_until(lambda: any(t["labels"].get("job") == "model-service" and t["health"] == "up"
                           for t in lab.prometheus_targets()),
               timeout=60, what="prometheus scraping the model service")
    try:
        yield s
    finally:
        s.host("drill", "stop")
        lab.down()


def _journal(s: Stack) -> dict | None:
    path = s.host_state / "drills" / "current.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _flags(s: Stack) -> dict:
    return httpx.get(s.url("model-service") + "/admin/config", timeout=10,
                     headers={"Authorization": f"Bearer {s.host_env['AIOPS_ADMIN_TOKEN']}"}).json()["flags"]


def test_a_native_only_drill_is_refused_before_anything_happens(stack: Stack) -> None:
    refused = stack.host("drill", "start", "monitoring-blind-spot")
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert "native lab only" in refused.stderr and "read-only" in refused.stderr
    assert "Traceback" not in refused.stderr and _journal(stack) is None


def test_error_burst_end_to_end_over_published_ports(stack: Stack) -> None:
    started = stack.host("drill", "start", "error-burst")
    assert started.returncode == 0, started.stdout + started.stderr
    journal = _journal(stack)
    assert journal is not None and journal["drill_id"] == "error-burst"
    assert _flags(stack)["error_ratio"] > 0
    injected = journal["injected_at"]

    def paged() -> bool:
        pages = httpx.get(stack.url("pager") + "/pages", params={"since": injected}, timeout=5).json()
        return any(p["alertname"] == "ModelServiceErrorBudgetBurn" for p in pages)

    wait_until(paged, timeout=150, interval=1.0, what="the error-burst page in the pager")
    failing = stack.host("drill", "check")
    assert failing.returncode == 1 and "FAIL" in failing.stdout, failing.stdout + failing.stderr
    fixed = stack.host("config", "set", "error_ratio", "0", "--reason", "revert the release")
    assert fixed.returncode == 0, fixed.stderr
    wait_until(lambda: stack.host("drill", "check").returncode == 0, timeout=120, interval=1.0,
               what="drill check to pass over the published ports")
    report = stack.host("drill", "report")
    assert report.returncode == 0 and journal["run_id"] in report.stdout, report.stdout + report.stderr
    data = json.loads((stack.host_state / "reports" / "drills" / journal["run_id"] / "report.json").read_text())
    assert data["score"]["ttd_s"] is not None and data["score"]["ttm_s"] > data["score"]["ttd_s"]
    assert data["score"]["wrong_actions"] == []
    assert data["server_impact"]["server_errors"] > 0  # impact read from the compose stack's Prometheus
    postmortem = (stack.host_state / "reports" / "drills" / journal["run_id"] / "postmortem.md").read_text()
    assert "config set error_ratio" in postmortem  # the learner's action, read back from the service's history
    stopped = stack.host("drill", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert _journal(stack) is None and _flags(stack)["error_ratio"] == 0
    # The engine never reached for the lab's files: no registry, no lab record on the host side.
    assert not (stack.host_state / "models").exists() and not (stack.host_state / "run" / "lab.json").exists()


def test_bad_release_is_pushed_into_the_services_registry_and_rolled_back(stack: Stack) -> None:
    """The candidate reaches the service through ``POST /admin/model/upload`` (a compose registry is a volume)."""
    before = sorted(p.name for p in (stack.lab_state / "models").iterdir() if p.is_dir())
    started = stack.host("drill", "start", "bad-model-deploy", "--force")
    assert started.returncode == 0, started.stdout + started.stderr
    served = httpx.get(stack.url("model-service") + "/readyz", timeout=5).json()["model_version"]
    assert served not in before and (stack.lab_state / "models" / served / "model.skops").is_file()
    card = json.loads((stack.lab_state / "models" / served / "card.json").read_text())
    assert card["corruption"] is None, "the release must not confess its corruption in the model card"
    stopped = stack.host("drill", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert httpx.get(stack.url("model-service") + "/readyz", timeout=5).json()["model_version"] == "v1"
    assert not (stack.host_state / "models").exists()


def test_a_process_fault_without_a_docker_engine_fails_cleanly_and_rolls_back(stack: Stack) -> None:
    if shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
        pytest.skip("a Docker engine is present: the process fault would really kill a container of the project")
    failed = stack.host("drill", "start", "service-crash", "--force")
    assert failed.returncode == 3, failed.stdout + failed.stderr
    assert "rolled back" in failed.stderr and "Docker engine" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert _journal(stack) is None
    assert httpx.get(stack.url("model-service") + "/readyz", timeout=5).status_code == 200
