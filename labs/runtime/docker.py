"""Runtime actions on the compose lab: kill, pause, resume and restart its containers through the Docker SDK.

Drills name components by their topology name ("model-service", "prometheus", ...), and the compose file
names its services the same way (a test enforces it), so a component is found by the labels Docker Compose
puts on every container it creates: ``com.docker.compose.project`` and ``com.docker.compose.service``.
One-off containers (``docker compose run``) carry ``com.docker.compose.oneoff=True`` and are never
touched: killing a learner's ``docker compose run --rm cli ...`` is not a drill.

Semantics match the native runtime: ``kill`` is ``docker kill`` (SIGKILL), which Docker treats as a manual
stop, so the ``restart: unless-stopped`` policy does *not* bring the container back -- the component stays
down until the learner mitigates (``restart``), exactly like a killed native process.

Testing: every engine-facing method needs a real Docker engine. The tests in tests/compose/ run them
against one when ``docker.from_env().ping()`` succeeds and skip with that reason otherwise; the selection
logic (:func:`select_containers`) is tested on SDK ``Container`` objects built from inspect JSON.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from aiops_core import yaml_text
from aiops_core.paths import REPO_ROOT
from labs.runtime.base import RuntimeError_

if TYPE_CHECKING:
    from docker.client import DockerClient
    from docker.models.containers import Container

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"
UP_HINT = "start it with: docker compose up -d (see docs/compose.md)"


def default_project(compose_file: Path = COMPOSE_FILE) -> str:
    """``COMPOSE_PROJECT_NAME`` if set (as ``docker compose`` does), else the compose file's ``name:``."""
    env = os.environ.get("COMPOSE_PROJECT_NAME")
    if env:
        return env
    try:
        name = (yaml_text.load(compose_file.read_text()) or {}).get("name")
    except (OSError, yaml.YAMLError) as exc:
        raise RuntimeError_(f"cannot read the compose project name from {compose_file}: {exc}; "
                            "set COMPOSE_PROJECT_NAME") from None
    if not name:
        raise RuntimeError_(f"{compose_file} has no top-level 'name:'; set COMPOSE_PROJECT_NAME")
    return str(name)


def select_containers(containers: Iterable[Container], project: str, service: str) -> list[Container]:
    """The service's own containers in the project (replicas included, one-off ``run`` containers excluded)."""
    chosen = []
    for container in containers:
        labels = container.labels
        if labels.get(PROJECT_LABEL) != project or labels.get(SERVICE_LABEL) != service:
            continue
        if labels.get(ONEOFF_LABEL, "False").lower() == "true":
            continue
        chosen.append(container)
    return sorted(chosen, key=lambda c: c.name or "")


def health_of(container: Container) -> str:
    """``healthy`` / ``unhealthy`` / ``starting`` from the container's HEALTHCHECK, or ``none`` without one."""
    health = (container.attrs.get("State") or {}).get("Health")
    # Docker omits Health without a HEALTHCHECK; Podman's compatible API sends it with an empty Status.
    return str(health.get("Status") or "none") if isinstance(health, dict) else "none"


def latest_start(containers: Iterable[Container]) -> float | None:
    """The latest ``State.StartedAt`` (epoch s) among running-or-stopped containers; a restart moves it.

    Docker writes RFC 3339 with nanoseconds (``2024-05-01T10:11:12.123456789Z``) and ``0001-01-01T00:00:00Z``
    for a container that never started."""
    from datetime import datetime

    parsed = []
    for container in containers:
        stamp = str((container.attrs.get("State") or {}).get("StartedAt") or "")
        if not stamp or stamp.startswith("0001-"):
            continue
        parsed.append(datetime.fromisoformat(stamp[:26].rstrip("Z") + "+00:00").timestamp())
    return max(parsed, default=None)


class DockerRuntime:
    """The compose project's containers as drill targets. The engine is contacted on first use, not here."""

    name = "compose"

    def __init__(self, project: str | None = None, client_factory: Callable[[], DockerClient] | None = None,
                 restart_timeout_s: float = 120.0) -> None:
        self.project = project or default_project()
        self._client_factory = client_factory
        self._client: DockerClient | None = None
        self.restart_timeout_s = restart_timeout_s

    # --- engine access -------------------------------------------------------------------------
    @property
    def client(self) -> DockerClient:
        if self._client is None:
            import docker  # the SDK import costs ~0.2 s; only compose drills pay it

            try:
                client = self._client_factory() if self._client_factory else docker.from_env()
                client.ping()
            except docker.errors.DockerException as exc:
                raise RuntimeError_(f"cannot reach the Docker engine ({exc}); start Docker, or run the lab "
                                    "natively: aiops-lab up") from None
            self._client = client
        return self._client

    def containers(self, component: str) -> list[Container]:
        """All of the component's containers, running or not."""
        import docker

        filters: dict[str, Any] = {"label": [f"{PROJECT_LABEL}={self.project}", f"{SERVICE_LABEL}={component}"]}
        try:
            found = self.client.containers.list(all=True, filters=filters)
        except docker.errors.DockerException as exc:
            raise RuntimeError_(f"listing containers of {component} failed: {exc}") from None
        return select_containers(found, self.project, component)

    def _require(self, component: str) -> list[Container]:
        found = self.containers(component)
        if not found:
            raise RuntimeError_(f"{component} has no container in compose project {self.project!r}; {UP_HINT}")
        return found

    def _act(self, component: str, action: str, targets: list[Container],
             call: Callable[[Container], object]) -> None:
        import docker

        for container in targets:
            try:
                call(container)
            except docker.errors.APIError as exc:
                raise RuntimeError_(f"{action} {component} ({container.name}) failed: "
                                    f"{exc.explanation or exc}") from None

    def _live(self, component: str, statuses: tuple[str, ...]) -> list[Container]:
        targets = [c for c in self._require(component) if c.status in statuses]
        if not targets:
            raise RuntimeError_(f"{component} is not running in compose project {self.project!r}; "
                                f"restart it with: aiops-lab service restart, or {UP_HINT}")
        return targets

    # --- the Runtime protocol ------------------------------------------------------------------
    def is_running(self, component: str) -> bool:
        try:
            return any(c.status == "running" for c in self.containers(component))
        except RuntimeError_:
            return False

    def started_at(self, component: str) -> float | None:
        try:
            return latest_start(self.containers(component))
        except RuntimeError_:
            return None

    def kill(self, component: str) -> None:
        # A paused container is killed too (Docker unpauses it to deliver SIGKILL), like SIGKILL on a
        # SIGSTOPped native process.
        targets = self._live(component, ("running", "paused"))
        self._act(component, "kill", targets, lambda c: c.kill(signal="SIGKILL"))

    def pause(self, component: str) -> None:
        targets = self._live(component, ("running", "paused"))
        self._act(component, "pause", [c for c in targets if c.status == "running"], lambda c: c.pause())

    def resume(self, component: str) -> None:
        """Unpause; a no-op for containers that are not paused (SIGCONT to a running process is one too)."""
        targets = [c for c in self._require(component) if c.status == "paused"]
        self._act(component, "resume", targets, lambda c: c.unpause())

    def restart(self, component: str) -> None:
        """``docker restart`` every container of the component (also a killed one), then wait until healthy."""

        def _restart(container: Container) -> None:
            if container.status == "paused":
                container.unpause()
            container.restart(timeout=15)

        self._act(component, "restart", self._require(component), _restart)
        self.wait_healthy(component)

    def wait_healthy(self, component: str, timeout_s: float | None = None) -> None:
        """Poll until every container runs and its HEALTHCHECK (if any) says healthy."""
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else self.restart_timeout_s)
        last = "no container"
        while time.monotonic() < deadline:
            containers = self._require(component)
            for container in containers:
                container.reload()
            states = [(c.status, health_of(c)) for c in containers]
            if all(status == "running" and health in ("healthy", "none") for status, health in states):
                return
            last = ", ".join(f"{c.name}: {status}/{health}" for c, (status, health) in zip(containers, states,
                                                                                              strict=True))
            time.sleep(0.5)
        raise RuntimeError_(f"{component} did not become healthy ({last}); see: docker compose logs {component}")
