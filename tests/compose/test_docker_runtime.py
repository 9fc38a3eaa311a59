"""DockerRuntime: the drill engine's hands on the compose stack.

Without a Docker engine (the CI machines and this project's dev machines have none) only what needs no
engine is tested: which containers belong to a component (on SDK ``Container`` objects built from the
inspect JSON an engine returns -- selection logic, not engine behaviour), the project name, and the
clear error a learner gets when no engine answers. The kill/pause/resume/restart tests at the bottom run
against a real engine when ``docker.from_env().ping()`` succeeds, and skip with that reason otherwise.
They also run against Podman's Docker-compatible API, given an image that is already present locally:

    DOCKER_HOST=unix:///tmp/podman.sock AIOPS_TEST_DOCKER_IMAGE=localhost/busybox \
        pytest tests/compose/test_docker_runtime.py
"""

from __future__ import annotations

import inspect
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docker.models.containers import Container

from aiops_core.polling import wait_until
from labs.runtime import docker as docker_runtime
from labs.runtime.base import Runtime, RuntimeError_, get_runtime
from labs.runtime.docker import DockerRuntime, default_project, health_of, latest_start, select_containers
from tests.compose import compose_file


def _container(name: str, project: str, service: str, status: str = "running", oneoff: str = "False",
               health: str | None = None) -> Container:
    """A container as ``docker inspect`` describes one (labels as Compose v2 sets them)."""
    state: dict[str, Any] = {"Status": status, "Running": status == "running", "Paused": status == "paused"}
    if health is not None:
        state["Health"] = {"Status": health, "FailingStreak": 0, "Log": []}
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": service,
              "com.docker.compose.oneoff": oneoff, "com.docker.compose.container-number": "1"}
    return Container(attrs={"Id": uuid.uuid4().hex, "Name": f"/{name}", "State": state,
                            "Config": {"Labels": labels, "Image": "aiops-lab:local"}})


def _engine_error() -> str | None:
    import docker

    try:
        docker.from_env(timeout=5).ping()
    except docker.errors.DockerException as exc:
        return str(exc)
    return None


ENGINE_ERROR = _engine_error()
needs_engine = pytest.mark.skipif(ENGINE_ERROR is not None,
                                  reason=f"no Docker engine reachable (docker.from_env(): {ENGINE_ERROR}); "
                                         "DockerRuntime's engine actions are only tested against a real engine")


# --- without an engine ---------------------------------------------------------------------------------
def test_select_keeps_the_services_own_containers_only() -> None:
    mine = [_container("aiops-lab-model-service-2", "aiops-lab", "model-service"),
            _container("aiops-lab-model-service-1", "aiops-lab", "model-service", status="exited")]
    others = [_container("aiops-lab-pager-1", "aiops-lab", "pager"),
              _container("other-model-service-1", "other", "model-service"),
              _container("aiops-lab-model-service-run-1f2e", "aiops-lab", "model-service", oneoff="True")]
    chosen = select_containers([*others, *mine], "aiops-lab", "model-service")
    assert [c.name for c in chosen] == ["aiops-lab-model-service-1", "aiops-lab-model-service-2"]


def test_select_finds_nothing_for_an_unknown_component() -> None:
    assert select_containers([_container("aiops-lab-pager-1", "aiops-lab", "pager")], "aiops-lab", "grafana") == []


def test_health_reads_the_containers_healthcheck_state() -> None:
    assert health_of(_container("a", "p", "s", health="healthy")) == "healthy"
    assert health_of(_container("a", "p", "s", health="starting")) == "starting"
    assert health_of(_container("a", "p", "s")) == "none"
    assert health_of(_container("a", "p", "s", health="")) == "none"  # Podman, no HEALTHCHECK


def test_start_time_is_the_latest_real_start_among_the_containers() -> None:
    """What the drill engine compares to see a learner's restart (docker restart moves StartedAt)."""
    first, second, never = (_container(n, "aiops-lab", "model-service") for n in ("a", "b", "c"))
    first.attrs["State"]["StartedAt"] = "2026-11-25T10:00:00.123456789Z"
    second.attrs["State"]["StartedAt"] = "2026-11-25T10:05:30Z"
    never.attrs["State"]["StartedAt"] = "0001-01-01T00:00:00Z"
    assert latest_start([first]) == pytest.approx(1795600800.123456)
    assert latest_start([first, second, never]) == pytest.approx(1795601130.0)
    assert latest_start([never]) is None and latest_start([]) is None


def test_project_name_comes_from_the_compose_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    assert default_project() == compose_file.raw()["name"] == "aiops-lab"
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", "lab2")
    assert default_project() == "lab2"


def test_project_name_missing_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    nameless = tmp_path / "docker-compose.yml"
    nameless.write_text("services: {}\n")
    with pytest.raises(RuntimeError_, match="COMPOSE_PROJECT_NAME"):
        default_project(nameless)


def test_compose_target_gives_a_docker_runtime_without_touching_the_engine() -> None:
    runtime = get_runtime("compose")
    assert isinstance(runtime, DockerRuntime) and runtime.name == "compose"
    assert runtime._client is None, "constructing the runtime must not need an engine"
    for method in ("is_running", "kill", "pause", "resume", "restart"):
        assert inspect.signature(getattr(runtime, method)) == \
            inspect.signature(getattr(Runtime, method)).replace(parameters=list(
                inspect.signature(getattr(Runtime, method)).parameters.values())[1:]), method


def test_every_compose_component_is_addressable_by_its_topology_name() -> None:
    """Drills say "model-service"; the runtime filters on com.docker.compose.service=<that name>."""
    from aiops_core.topology import BY_NAME

    services = {name for name, svc in compose_file.raw()["services"].items() if svc.get("restart") != "no"}
    assert services and services <= set(BY_NAME)


@pytest.mark.skipif(ENGINE_ERROR is None, reason="a Docker engine is reachable here")
def test_without_an_engine_actions_fail_with_the_fix_and_is_running_is_false() -> None:
    runtime = DockerRuntime(project="aiops-lab")
    for action in (runtime.kill, runtime.pause, runtime.resume, runtime.restart):
        with pytest.raises(RuntimeError_, match=r"cannot reach the Docker engine.*aiops-lab up"):
            action("model-service")
    assert runtime.is_running("model-service") is False


# --- with a real engine --------------------------------------------------------------------------------
IMAGE = os.environ.get("AIOPS_TEST_DOCKER_IMAGE", "busybox:1.36.1")  # any image with `sleep`


def _is_podman(client: Any) -> bool:
    return any("podman" in c.get("Name", "").lower() for c in client.version().get("Components", []))


@pytest.fixture
def labelled_container() -> Iterator[tuple[DockerRuntime, Any]]:
    """A throwaway container labelled as the model service of a private compose project, plus a one-off."""
    import docker.types

    client = docker.from_env()
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        try:
            client.images.pull(IMAGE)
        except docker.errors.DockerException as exc:
            pytest.skip(f"cannot pull {IMAGE} for the engine tests (set AIOPS_TEST_DOCKER_IMAGE): {exc}")
    project = f"aiops-lab-test-{uuid.uuid4().hex[:8]}"
    labels = {docker_runtime.PROJECT_LABEL: project, docker_runtime.SERVICE_LABEL: "model-service",
              docker_runtime.ONEOFF_LABEL: "False"}
    second = 1_000_000_000
    # Podman runs health checks from systemd timers; without systemd they never run, so no healthcheck there
    # (restart then waits for "running" only). On Docker the restart waits for a real "healthy".
    health = None if _is_podman(client) else {"test": ["CMD", "true"], "interval": second, "timeout": second,
                                              "retries": 1, "start_period": 0}
    common: dict[str, Any] = {"detach": True, "network_mode": "none",
                              "ulimits": [docker.types.Ulimit(name="nofile", soft=1024, hard=1024),
                                          docker.types.Ulimit(name="nproc", soft=4096, hard=4096)]}
    try:
        client.containers.run(IMAGE, ["sleep", "600"], labels=labels, healthcheck=health,
                              restart_policy={"Name": "unless-stopped"}, **common)
        oneoff = client.containers.run(IMAGE, ["sleep", "600"],
                                       labels={**labels, docker_runtime.ONEOFF_LABEL: "True"}, **common)
        yield DockerRuntime(project=project, restart_timeout_s=60), oneoff
    finally:  # everything of the private project, also what a failed start left behind
        for c in client.containers.list(all=True, filters={"label": f"{docker_runtime.PROJECT_LABEL}={project}"}):
            c.remove(force=True)


@pytest.mark.integration
@needs_engine
def test_pause_resume_kill_restart_against_a_real_engine(labelled_container: tuple[DockerRuntime, Any]) -> None:
    runtime, oneoff = labelled_container
    wait_until(lambda: runtime.is_running("model-service"), timeout=30, what="container running")
    runtime.pause("model-service")
    assert not runtime.is_running("model-service")
    runtime.resume("model-service")
    assert runtime.is_running("model-service")
    runtime.kill("model-service")
    assert not runtime.is_running("model-service")
    with pytest.raises(RuntimeError_, match="not running"):
        runtime.pause("model-service")
    runtime.restart("model-service")  # waits for the healthcheck
    assert runtime.is_running("model-service")
    oneoff.reload()
    assert oneoff.status == "running", "a one-off `docker compose run` container must never be touched"


@pytest.mark.integration
@needs_engine
def test_unknown_component_is_a_clear_error_against_a_real_engine(
        labelled_container: tuple[DockerRuntime, Any]) -> None:
    runtime, _ = labelled_container
    with pytest.raises(RuntimeError_, match=r"grafana has no container.*docker compose up"):
        runtime.kill("grafana")
    assert runtime.is_running("grafana") is False
