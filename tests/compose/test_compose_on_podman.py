"""``docker compose up`` for real: docker-compose.yml on Podman's Docker-compatible API (docs/compose.md).

The stack is the learner's compose file plus the host-networking override of docker/podman_override.py,
started by docker/podman_stack.py in the background from the session's start (tests/compose/container_stack.py).
Grafana is not part of it: no image of it can be obtained here. The tests run in this file's order; the last
one takes the stack down and proves nothing is left.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.runtime.docker import DockerRuntime
from tests.compose import container_stack
from tests.compose.container_stack import compose, podman_engine, podman_stack, url
from tests.support import speed
from tests.support.lab import CLI

pytestmark = pytest.mark.containers
RUNNING = ("model-service", "traffic-feed", "drift-monitor", "pager", "prometheus", "alertmanager")


@pytest.fixture(scope="module")
def stack() -> container_stack.Started:
    return container_stack.start().wait()


@pytest.fixture(scope="module")
def host_state() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="compose-host-") as state:
        yield Path(state)


def host(state: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``aiops-lab --target compose ...`` in the learner's shell on the host."""
    return subprocess.run([*CLI, "--target", "compose", *args], env=container_stack.host_env(state),
                          capture_output=True, text=True, timeout=timeout * speed.slowdown(), stdin=subprocess.DEVNULL)


def _ps() -> dict[str, dict]:
    done = compose("ps", "--all", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return {row["Service"]: row for row in rows}


def test_up_wait_brings_every_service_to_healthy(stack: container_stack.Started) -> None:
    ps = _ps()
    assert set(ps) == {"model-init", *RUNNING}, f"grafana is left out (no image), nothing else: {sorted(ps)}"
    assert ps["model-init"]["State"] == "exited" and ps["model-init"]["ExitCode"] == 0
    for name in RUNNING:
        assert (ps[name]["State"], ps[name]["Health"]) == ("running", "healthy"), (name, ps[name])
    def targets() -> list[dict]:
        return lab_http.get(url("prometheus") + "/api/v1/targets", timeout=10).json()["data"]["activeTargets"]

    # Ready is not scraped: each target's health is "unknown" until its first scrape (2 s in lab mode).
    every_job_up = dict.fromkeys(("model-service", "drift-monitor", "pager", "traffic-feed", "alertmanager",
                                  "prometheus"), "up")
    wait_until(lambda: {t["labels"]["job"]: t["health"] for t in targets()} == every_job_up,
               timeout=30 * speed.slowdown(), interval=1.0, what="every Prometheus target up")
    assert all(t["scrapeUrl"].split("//")[1].split(":")[0] in podman_stack.podman_override.LISTENERS
               for t in targets()), "Prometheus scrapes by service name, as in the compose network"
    print(f"\ntimings: {container_stack.timings()} (thread total {stack.seconds:.0f} s)")


def test_the_readme_commands_work_against_the_stack(stack: container_stack.Started, host_state: Path) -> None:
    def status() -> tuple[subprocess.CompletedProcess[str], dict]:
        done = host(host_state, "status", "--json")
        assert done.stdout.startswith("{"), done.stdout + done.stderr
        return done, json.loads(done.stdout)

    # The pipeline is "ok" once Alertmanager delivered the Watchdog's heartbeat to the pager, with the bearer
    # token it reads from the compose secret: a page would reach the learner.
    wait_until(lambda: status()[1]["alert_pipeline"]["state"] == "ok", timeout=90 * speed.slowdown(),
               interval=2.0, what="aiops-lab status: alert pipeline ok (a Watchdog heartbeat reached the pager)")
    done, report = status()
    states = {name: c["state"] for name, c in report["components"].items()}
    assert states == {**dict.fromkeys(RUNNING, "healthy"), "grafana": "down"}, states
    assert done.returncode == 1, "status fails while a component (here Grafana, absent) is down"

    row = {"distance_km": 3.2, "items_count": 2, "is_peak_hour": 1, "courier_experience_months": 14}
    answer = lab_http.post(url("model-service") + "/predict", json=row, timeout=10)
    assert answer.status_code == 200 and answer.json()["model_version"] == "v1", answer.text
    metrics = lab_http.get(url("model-service") + "/metrics", timeout=10).text
    assert 'aiops_dependency_requests_total{dependency="traffic-feed",outcome="ok"}' in metrics, \
        "traffic_index was looked up from the feed by its service name"

    listed = compose("run", "--rm", "cli", "model", "list")
    assert listed.returncode == 0 and "v1" in listed.stdout, listed.stdout + listed.stderr


def test_a_process_fault_drill_plays_end_to_end_through_the_engine(stack: container_stack.Started,
                                                                    host_state: Path) -> None:
    """service-crash: DockerRuntime kills the container through the engine API, the page arrives, the learner
    restarts it through the same API, the check passes."""
    runtime = DockerRuntime(project=podman_stack.PROJECT,
                            client_factory=lambda: __import__("docker").DockerClient(
                                base_url=f"unix://{podman_engine.SOCKET}", timeout=30))
    started = host(host_state, "drill", "start", "service-crash", "--no-wait")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert not runtime.is_running("model-service"), "the drill killed the container"
        injected = json.loads((host_state / "drills" / "current.json").read_text())["injected_at"]

        def paged() -> bool:
            pages = lab_http.get(url("pager") + "/pages", params={"since": injected}, timeout=5).json()
            return any(p["alertname"] == "ModelServiceDown" for p in pages)

        wait_until(paged, timeout=120 * speed.slowdown(), interval=1.0, what="the ModelServiceDown page")
        assert not runtime.is_running("model-service"), "a killed container stays down until the learner acts"
        failing = host(host_state, "drill", "check")
        assert failing.returncode == 1 and "FAIL" in failing.stdout, failing.stdout + failing.stderr
        before = runtime.started_at("model-service")
        restarted = host(host_state, "service", "restart", "model-service")
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert runtime.is_running("model-service") and runtime.started_at("model-service") != before
        wait_until(lambda: host(host_state, "drill", "check").returncode == 0, timeout=120 * speed.slowdown(),
                   interval=2.0, what="drill check to pass after the restart")
    finally:
        stopped = host(host_state, "drill", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def test_down_v_leaves_no_container_volume_network_or_listener(stack: container_stack.Started) -> None:
    down = subprocess.run([sys.executable, str(container_stack.SCRIPT), "down"], capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert down.returncode == 0, down.stdout + down.stderr
    assert podman_stack.leftovers() == []
    every = subprocess.run(["podman", "ps", "--all", "--format", "{{.Names}}",
                            "--filter", f"label=com.docker.compose.project={podman_stack.PROJECT}"],
                           capture_output=True, text=True, env=podman_engine.engine_env(), check=True)
    volumes = subprocess.run(["podman", "volume", "ls", "--format", "{{.Name}}"], capture_output=True, text=True,
                             env=podman_engine.engine_env(), check=True)
    networks = subprocess.run(["podman", "network", "ls", "--format", "{{.Name}}"], capture_output=True, text=True,
                              env=podman_engine.engine_env(), check=True)
    assert every.stdout.split() == []
    assert [v for v in volumes.stdout.split() if v.startswith(podman_stack.PROJECT)] == []
    assert set(networks.stdout.split()) <= {"podman"}, "host networking only: no network was ever created"
