"""What the native lab runs: one ``ProcessSpec`` per component, built from the topology and the repo's configs.

The same plan drives ``aiops-lab up`` and the integration tests, so the tests exercise exactly what a
learner runs. The compose file mirrors it (a parity test compares them).
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from aiops_core import paths
from aiops_core.runstate import config_dir
from aiops_core.topology import (
    ALERTMANAGER,
    DRIFT_MONITOR,
    GRAFANA,
    LOOPBACK,
    MODEL_SERVICE,
    PAGER,
    PROMETHEUS,
    TRAFFIC_FEED,
)
from labs.stack.grafana_config import find_grafana, render_grafana
from monitoring import render
from monitoring.binaries import MonitoringBinaryMissing


@dataclass
class ProcessSpec:
    """How to start one component and how to tell it is healthy."""

    name: str
    port: int
    argv: list[str] | None  # None: skipped, see skip_reason
    health_path: str
    env: dict[str, str] = field(default_factory=dict)
    skip_reason: str = ""

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


def ensure_admin_token(state_dir: Path) -> str:
    """The admin token lives in the state dir (mode 0600) so CLI commands in other terminals can use it."""
    path = paths.admin_token_path(state_dir)
    if path.is_file():
        return path.read_text().strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token


def _python_module(module: str) -> list[str] | None:
    return [sys.executable, "-m", module] if importlib.util.find_spec(module) is not None else None


def build_plan(mode: str = "lab", state_dir: Path | None = None) -> list[ProcessSpec]:
    """The lab's processes in start order (dependencies first)."""
    if mode not in render.MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(render.MODES)}")
    state_dir = state_dir or paths.state_dir()
    token = ensure_admin_token(state_dir)
    ports = {c.name: c.port() for c in (MODEL_SERVICE, DRIFT_MONITOR, PAGER, TRAFFIC_FEED, PROMETHEUS,
                                       ALERTMANAGER, GRAFANA)}
    base_env = {"AIOPS_STATE_DIR": str(state_dir), "PYTHONUNBUFFERED": "1", "AIOPS_LAB_MODE": mode}
    for name, port in ports.items():
        base_env[f"AIOPS_{name.upper().replace('-', '_')}_PORT"] = str(port)
    base_env["AIOPS_MODEL_SERVICE_URL"] = f"http://{LOOPBACK}:{ports[MODEL_SERVICE.name]}"
    specs: list[ProcessSpec] = []

    feed_argv = _python_module("labs.traffic_feed")
    if feed_argv is not None:
        specs.append(ProcessSpec(TRAFFIC_FEED.name, ports[TRAFFIC_FEED.name], feed_argv, TRAFFIC_FEED.health_path,
                                 base_env))

    specs.append(ProcessSpec(
        MODEL_SERVICE.name, ports[MODEL_SERVICE.name], [sys.executable, "-m", "model_service"],
        MODEL_SERVICE.health_path,
        {**base_env, "AIOPS_PORT": str(ports[MODEL_SERVICE.name]), "AIOPS_ADMIN_TOKEN": token}))

    drift_argv = _python_module("monitoring.drift")
    # The pager's and the drift monitor's write endpoints accept only the lab's own callers: the same token.
    drift_env = {**base_env, "AIOPS_DRIFT_INTERVAL_S": "30" if mode == "lab" else "300", "AIOPS_ADMIN_TOKEN": token}
    specs.append(ProcessSpec(DRIFT_MONITOR.name, ports[DRIFT_MONITOR.name], drift_argv, DRIFT_MONITOR.health_path,
                             drift_env,
                             skip_reason="" if drift_argv else "drift monitor not installed in this checkout"))

    pager_argv = _python_module("labs.pager")
    specs.append(ProcessSpec(PAGER.name, ports[PAGER.name], pager_argv, PAGER.health_path,
                             {**base_env, "AIOPS_ADMIN_TOKEN": token},
                             skip_reason="" if pager_argv else "pager not installed in this checkout"))

    specs.extend(_monitoring_specs(mode, state_dir, ports, base_env))
    specs.append(_grafana_spec(state_dir, ports, base_env))
    return specs


def _monitoring_specs(mode: str, state_dir: Path, ports: dict[str, int], env: dict[str, str]) -> list[ProcessSpec]:
    targets = {name: f"{LOOPBACK}:{port}" for name, port in ports.items() if name in render.JOBS}
    lab_mode = mode == "lab"
    # Alertmanager reads the token from its file at each webhook: the rendered config holds only the path.
    rendered = render.render(config_dir(state_dir), targets=targets, pager_url=f"http://{LOOPBACK}:{ports[PAGER.name]}",
                             lab_mode=lab_mode, pager_credentials_file=paths.admin_token_path(state_dir).resolve())
    specs = []
    for comp, command, config in (
        # Alertmanager first: Prometheus's first notifications (the Watchdog heartbeat) must find it up.
        (ALERTMANAGER, render.alertmanager_command, rendered.alertmanager_yml),
        (PROMETHEUS, partial(render.prometheus_command, lab_mode=lab_mode), rendered.prometheus_yml),
    ):
        port = ports[comp.name]
        try:
            argv = command(config, state_dir / comp.name, port)
        except MonitoringBinaryMissing as exc:
            specs.append(ProcessSpec(comp.name, port, None, render.READY_PATH, skip_reason=exc.message))
            continue
        specs.append(ProcessSpec(comp.name, port, argv, render.READY_PATH, env))
    return specs


def _grafana_spec(state_dir: Path, ports: dict[str, int], env: dict[str, str]) -> ProcessSpec:
    """Grafana runs only when a grafana-server binary exists (no Debian package; see the README)."""
    port = ports[GRAFANA.name]
    grafana = find_grafana()
    if grafana is None:
        return ProcessSpec(GRAFANA.name, port, None, GRAFANA.health_path,
                           skip_reason="grafana-server not found (optional): install Grafana (README, 'Grafana "
                           "natively'), import grafana/dashboards/*.json into any Grafana, or use docker compose")
    ini = render_grafana(state_dir / "run" / "grafana", port=port,
                         prometheus_url=f"http://{LOOPBACK}:{ports[PROMETHEUS.name]}")
    return ProcessSpec(GRAFANA.name, port, grafana.argv(ini), GRAFANA.health_path, env)
