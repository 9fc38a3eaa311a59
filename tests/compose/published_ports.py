"""The drill engine driving a lab it reaches only over the network, as it drives the compose stack.

No Docker engine exists on this machine, so the stack under test is the real native lab (same processes,
same configs), and the engine runs with ``--target compose`` and its own, *separate* host state directory:
it finds every component through the published ports (``AIOPS_<NAME>_PORT``), authenticates with
``AIOPS_ADMIN_TOKEN`` from ``.env``, and may not touch the lab's files (in compose they are volumes the host
cannot see). A drill played end to end this way proves the compose path of everything except the container
actions themselves, which ``tests/compose/test_docker_runtime.py`` runs against a real engine when one
exists. Process faults here reach ``DockerRuntime`` and must fail cleanly, rolled back, naming Docker.

These are jobs of the drill pool (``tests/labs/drills/pool.py``): each plays on one of the pool's labs while
the rest of the suite runs; ``test_drills_over_published_ports.py`` reports their outcomes.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from aiops_core.topology import BY_NAME, COMPONENTS
from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job, Skipped
from tests.support.lab import CLI, lab_environment


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


@contextlib.contextmanager
def stack(lab: Lab) -> Iterator[Stack]:
    """The pool lab seen from a host shell: published ports, the admin token from ``.env``, and a state dir
    of its own. Whatever happens, the drill the host started is stopped."""
    host_state = Path(tempfile.mkdtemp(prefix="compose-host-", dir=lab.state.parent))
    token = (lab.state / "admin-token").read_text().strip()
    ports = {comp.port_env: lab.env[comp.port_env] for comp in COMPONENTS}
    s = Stack(lab.env, lab_environment(host_state, ports, AIOPS_ADMIN_TOKEN=token), lab.state, host_state)
    try:
        yield s
    finally:
        s.host("drill", "stop")
        shutil.rmtree(host_state, ignore_errors=True)


def _journal(s: Stack) -> dict | None:
    path = s.host_state / "drills" / "current.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _flags(s: Stack) -> dict:
    return lab_http.get(s.url("model-service") + "/admin/config", timeout=10,
                        headers={"Authorization": f"Bearer {s.host_env['AIOPS_ADMIN_TOKEN']}"}).json()["flags"]


def a_native_only_drill_is_refused_before_anything_happens(stack: Stack) -> None:
    refused = stack.host("drill", "start", "monitoring-blind-spot")
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert "native lab only" in refused.stderr and "read-only" in refused.stderr
    assert "Traceback" not in refused.stderr and _journal(stack) is None


def error_burst_end_to_end_over_published_ports(stack: Stack) -> None:
    started = stack.host("drill", "start", "error-burst", "--no-wait")
    assert started.returncode == 0, started.stdout + started.stderr
    journal = _journal(stack)
    assert journal is not None and journal["drill_id"] == "error-burst"
    assert _flags(stack)["error_ratio"] > 0
    injected = journal["injected_at"]

    def paged() -> bool:
        pages = lab_http.get(stack.url("pager") + "/pages", params={"since": injected}, timeout=5).json()
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


def bad_release_is_pushed_into_the_services_registry_and_rolled_back(stack: Stack) -> None:
    """The candidate reaches the service through ``POST /admin/model/upload`` (a compose registry is a volume)."""
    before = sorted(p.name for p in (stack.lab_state / "models").iterdir() if p.is_dir())
    started = stack.host("drill", "start", "bad-model-deploy", "--force")
    assert started.returncode == 0, started.stdout + started.stderr
    served = lab_http.get(stack.url("model-service") + "/readyz", timeout=5).json()["model_version"]
    assert served not in before and (stack.lab_state / "models" / served / "model.skops").is_file()
    card = json.loads((stack.lab_state / "models" / served / "card.json").read_text())
    assert card["corruption"] is None, "the release must not confess its corruption in the model card"
    stopped = stack.host("drill", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert lab_http.get(stack.url("model-service") + "/readyz", timeout=5).json()["model_version"] == "v1"
    assert not (stack.host_state / "models").exists()


def a_process_fault_without_a_docker_engine_fails_cleanly_and_rolls_back(stack: Stack) -> None:
    if shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
        raise Skipped("a Docker engine is present: the process fault would really kill a container of the project")
    failed = stack.host("drill", "start", "service-crash", "--force")
    assert failed.returncode == 3, failed.stdout + failed.stderr
    assert "rolled back" in failed.stderr and "Docker engine" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert _journal(stack) is None
    assert lab_http.get(stack.url("model-service") + "/readyz", timeout=5).status_code == 200


def _on_a_pool_lab(body: Callable[[Stack], None]) -> Callable[[Lab], None]:
    def job(lab: Lab) -> None:
        with stack(lab) as s:
            body(s)
    return job


# (job name, body, estimated seconds, alerts a previous job must have let clear first)
JOBS = [
    Job("compose: native-only drill refused", _on_a_pool_lab(a_native_only_drill_is_refused_before_anything_happens),
        cost_s=5),
    Job("compose: error-burst end to end", _on_a_pool_lab(error_burst_end_to_end_over_published_ports), cost_s=100,
        avoid_alerts=frozenset({"ModelServiceErrorBudgetBurn"}), dilutable=True),
    Job("compose: bad release pushed and rolled back",
        _on_a_pool_lab(bad_release_is_pushed_into_the_services_registry_and_rolled_back), cost_s=20),
    Job("compose: process fault without an engine",
        _on_a_pool_lab(a_process_fault_without_a_docker_engine_fails_cleanly_and_rolls_back), cost_s=15),
]
