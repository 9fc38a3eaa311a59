"""The lab's topology: every component, its default port and the environment variable that moves it.

This is the single source of truth for ports. The native launcher, the CLI's defaults, the compose file's
parity test and the docs all read it. Every port can be overridden with ``AIOPS_<NAME>_PORT``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    """A lab process and where it listens by default."""

    name: str
    default_port: int
    description: str
    health_path: str = "/healthz"  # what "up and ready" means over HTTP (the launcher waits on it)
    # The ``service`` field the health answer carries, when the lab wrote the component: a 200 from whatever
    # else holds the port (a squatter during a restart, issue 14 item 9a) is then not mistaken for it.
    identity: str = ""

    @property
    def port_env(self) -> str:
        return f"AIOPS_{self.name.upper().replace('-', '_')}_PORT"

    def port(self) -> int:
        """The configured port: ``AIOPS_<NAME>_PORT`` if set, else the default."""
        raw = os.environ.get(self.port_env)
        if raw is None or raw == "":
            return self.default_port
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{self.port_env}={raw!r} is not a port number; set it to 1-65535") from None
        if not 1 <= value <= 65535:
            raise ValueError(f"{self.port_env}={value} is out of range; set it to 1-65535")
        return value


MODEL_SERVICE = Component("model-service", 8000, "FastAPI model service (/predict, /metrics, /admin)", "/readyz",
                          identity="aiops-model-service")
DRIFT_MONITOR = Component("drift-monitor", 8001, "Evidently drift monitor (/metrics, /reports)")
PAGER = Component("pager", 8002, "Lab pager: Alertmanager webhook receiver and incident timeline")
TRAFFIC_FEED = Component("traffic-feed", 8003, "Upstream traffic feed the model service depends on")
PROMETHEUS = Component("prometheus", 9090, "Prometheus (scrapes, rules, alerts)", "/-/ready")
ALERTMANAGER = Component("alertmanager", 9093, "Alertmanager (routing, grouping, inhibition)", "/-/ready")
GRAFANA = Component("grafana", 3000, "Grafana dashboards", "/api/health")
LOCUST = Component("locust", 8089, "Locust web UI", "/")

COMPONENTS: tuple[Component, ...] = (
    MODEL_SERVICE, DRIFT_MONITOR, PAGER, TRAFFIC_FEED, PROMETHEUS, ALERTMANAGER, GRAFANA, LOCUST,
)
BY_NAME: dict[str, Component] = {c.name: c for c in COMPONENTS}

LOOPBACK = "127.0.0.1"
