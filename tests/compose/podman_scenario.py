"""What the ``containers`` tests prove on the compose stack, as steps the stack's background thread plays.

Why steps in the background and not test bodies: most of it is waiting -- the Watchdog's first heartbeat at
the pager (~60 s after ``up``), a killed container's page, a check's hold window -- and in the foreground that
waiting came after every other test, on the suite's critical path. Like the drill pool's jobs, the steps run
as soon as the stack is up (``tests/compose/container_stack.py``), beside the rest of the suite, and the tests
in ``test_compose_on_podman.py`` report their outcomes. They run in this order, each on what the one before
left; the last takes the stack down and proves nothing is left.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.runtime.docker import DockerRuntime
from tests.compose import container_stack
from tests.compose.container_stack import compose, podman_engine, podman_stack, url
from tests.support import speed
from tests.support.lab import CLI

RUNNING = ("model-service", "traffic-feed", "drift-monitor", "pager", "prometheus", "alertmanager")


def host(state: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``aiops-lab --target compose ...`` in the learner's shell on the host."""
    return subprocess.run([*CLI, "--target", "compose", *args], env=container_stack.host_env(state),
                          capture_output=True, text=True, timeout=timeout * speed.slowdown(), stdin=subprocess.DEVNULL)


def _ps() -> dict[str, dict]:
    done = compose("ps", "--all", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return {row["Service"]: row for row in rows}


def every_service_healthy(state: Path) -> str:
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
    return f"timings: {container_stack.timings()}"


def readme_commands(state: Path) -> str:
    def status() -> tuple[subprocess.CompletedProcess[str], dict]:
        done = host(state, "status", "--json")
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
    return "status, a prediction and `docker compose run --rm cli model list` worked"


def process_fault_drill(state: Path) -> str:
    """service-crash: DockerRuntime kills the container through the engine API, the page arrives, the learner
    restarts it through the same API, the check passes."""
    runtime = DockerRuntime(project=podman_stack.PROJECT,
                            client_factory=lambda: __import__("docker").DockerClient(
                                base_url=f"unix://{podman_engine.SOCKET}", timeout=30))
    started = host(state, "drill", "start", "service-crash", "--no-wait")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert not runtime.is_running("model-service"), "the drill killed the container"
        injected = json.loads((state / "drills" / "current.json").read_text())["injected_at"]

        def paged() -> bool:
            pages = lab_http.get(url("pager") + "/pages", params={"since": injected}, timeout=5).json()
            return any(p["alertname"] == "ModelServiceDown" for p in pages)

        wait_until(paged, timeout=120 * speed.slowdown(), interval=1.0, what="the ModelServiceDown page")
        assert not runtime.is_running("model-service"), "a killed container stays down until the learner acts"
        failing = host(state, "drill", "check")
        assert failing.returncode == 1 and "FAIL" in failing.stdout, failing.stdout + failing.stderr
        before = runtime.started_at("model-service")
        restarted = host(state, "service", "restart", "model-service")
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert runtime.is_running("model-service") and runtime.started_at("model-service") != before
        wait_until(lambda: host(state, "drill", "check").returncode == 0, timeout=120 * speed.slowdown(),
                   interval=2.0, what="drill check to pass after the restart")
    finally:
        stopped = host(state, "drill", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    return "service-crash paged, failed its check, passed after the restart"


def down_leaves_nothing(state: Path) -> str:
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
    return "nothing left"


# In order, every one whatever happened to the one before (as the tests did in the foreground); the last one
# takes the stack down.
STEPS: list[tuple[str, Callable[[Path], str]]] = [
    ("every service healthy", every_service_healthy),
    ("README commands", readme_commands),
    ("process fault drill", process_fault_drill),
    ("down -v leaves nothing", down_leaves_nothing),
]
