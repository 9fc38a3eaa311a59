"""The compose override that lets ``docker-compose.yml`` run unchanged on Podman here: host networking only.

Why an override and not a second compose file: the file under test is the learner's ``docker-compose.yml``;
this only changes what a machine without a registry or bridge networking forces, and is derived from that
file and from the lab's own renderer, so a change to either reaches the smoke run:

* every service uses ``network_mode: host`` (bridge/CNI networks must never be created on these machines),
  listens on **127.0.0.1** (on the host's network namespace 0.0.0.0 would face the network) on a port of
  the chosen free range, and reaches the others by service name through ``extra_hosts`` -> 127.0.0.1;
* health probes and Prometheus/Alertmanager flags get the moved ports (the compose file's own commands,
  with the listen address rewritten);
* Prometheus/Alertmanager mount configs rendered by ``monitoring/render.py`` exactly as
  ``monitoring/compose/generate.py`` renders the committed ones, but with the moved ports;
* the local images stand in for the registry ones; Grafana cannot be had and is put behind a profile.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from aiops_core import yaml_text

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
# The stack the smoke run starts: every service of the default profile but Grafana (no image obtainable).
PYTHON_SERVICES = ("model-init", "model-service", "traffic-feed", "drift-monitor", "pager", "cli")
LISTENERS = ("model-service", "traffic-feed", "drift-monitor", "pager", "prometheus", "alertmanager")
# Not started, but given a port of the range too: a CLI pointed at the stack must never fall back to a default
# port (3000, 8089) where something else on a shared machine may listen.
RESERVED = ("grafana", "locust")
UNAVAILABLE = {"grafana": "no Grafana image or package is obtainable from the reachable registries"}
# Each Python service's own listen-address variables (read by its settings class).
_HOST_ENV = {"model-service": ("AIOPS_HOST", "AIOPS_PORT"), "traffic-feed": ("AIOPS_TRAFFIC_FEED_HOST", None),
             "drift-monitor": ("AIOPS_DRIFT_HOST", None), "pager": ("AIOPS_PAGER_HOST", None)}
LOOPBACK = "127.0.0.1"


class Reset(list):  # type: ignore[type-arg]
    """Compose's ``!reset`` tag: drop the base file's value instead of merging into it (the published ports)."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # no &id001 anchors: the override is read by people too
        return True


_Dumper.add_representer(Reset, lambda d, v: d.represent_sequence("!reset", list(v)))


def port_env(component: str) -> str:
    return f"AIOPS_{component.upper().replace('-', '_')}_PORT"


def _moved_url(text: str, ports: dict[str, int]) -> str:
    """``http://127.0.0.1:8000/readyz`` / ``0.0.0.0:9090`` with the default port replaced by the moved one."""
    from aiops_core.topology import BY_NAME

    by_default = {BY_NAME[name].default_port: port for name, port in ports.items()}

    def swap(m: re.Match[str]) -> str:
        return f"{LOOPBACK}:{by_default.get(int(m.group(2)), int(m.group(2)))}"

    return re.sub(r"(127\.0\.0\.1|0\.0\.0\.0):(\d+)", swap, text)


def render(out_dir: Path, ports: dict[str, int], images: dict[str, str], lab_mode: str = "lab") -> Path:
    """Write ``override.yml`` and the monitoring configs it mounts into ``out_dir``; return the override."""
    from aiops_core.topology import BY_NAME
    from monitoring import render as monitoring_render
    from monitoring.compose.generate import CONTAINER_TOKEN_FILE

    base = yaml_text.load(COMPOSE_FILE.read_text())
    services: dict[str, Any] = base["services"]
    config_dir = out_dir / "monitoring" / lab_mode
    monitoring_render.render(config_dir, targets={job: f"{job}:{ports[job]}" for job in monitoring_render.JOBS},
                             pager_url=f"http://pager:{ports['pager']}", lab_mode=lab_mode == "lab",
                             pager_credentials_file=CONTAINER_TOKEN_FILE)
    # Only what runs: an absent Grafana must not resolve (to a default port on this machine), but fail.
    hosts = [f"{name}:{LOOPBACK}" for name in services if name not in UNAVAILABLE and name != "locust"]
    env = {port_env(name): str(port) for name, port in ports.items()}
    env.update({f"AIOPS_{n.upper().replace('-', '_')}_URL": f"http://{n if n in LISTENERS else LOOPBACK}:{p}"
                for n, p in ports.items()})
    override: dict[str, Any] = {}
    for name, svc in services.items():
        if name in UNAVAILABLE:
            override[name] = {"profiles": ["unavailable-here"]}
            continue
        if name == "locust":
            continue  # profile `load`: not part of the smoke run
        out: dict[str, Any] = {"network_mode": "host", "extra_hosts": hosts}
        if svc.get("ports"):
            out["ports"] = Reset()
        if name in PYTHON_SERVICES:
            out["image"] = images["project"]
            out["pull_policy"] = "never"  # built beforehand by `podman build` (with the build secrets)
            svc_env = dict(env)
            host_var, port_var = _HOST_ENV.get(name, (None, None))
            if host_var:
                svc_env[host_var] = LOOPBACK
            if port_var:
                svc_env[port_var] = str(ports[name])
            svc_env.setdefault("AIOPS_PORT", str(ports["model-service"]))  # the image's default probe target
            out["environment"] = svc_env
        elif name in ("prometheus", "alertmanager"):
            out["image"] = images[name]
            out["pull_policy"] = "never"
            out["command"] = [_moved_url(arg, ports) for arg in svc["command"]]
            target = "/etc/prometheus" if name == "prometheus" else "/etc/alertmanager"
            out["volumes"] = [{"type": "bind", "source": str(config_dir), "target": target, "read_only": True}]
        if "healthcheck" in svc:
            out["healthcheck"] = {"test": [_moved_url(arg, ports) for arg in svc["healthcheck"]["test"]]}
        elif name in PYTHON_SERVICES:
            # model-init / cli serve nothing but inherit the image's HEALTHCHECK (the model service on
            # AIOPS_PORT, 8000): in the host's network namespace that probe would reach a default port.
            out["healthcheck"] = {"disable": True}
        override[name] = out
    missing = set(LISTENERS) - {n for n in override if n in BY_NAME}
    if missing:
        raise ValueError(f"docker-compose.yml lacks {sorted(missing)}; update docker/podman_override.py")
    path = out_dir / "override.yml"
    path.write_text("# Generated by docker/podman_stack.py from docker-compose.yml -- do not edit.\n"
                    + yaml.dump({"services": override}, Dumper=_Dumper, sort_keys=False))
    return path
