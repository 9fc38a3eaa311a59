"""docker/podman_override.py: the override that runs docker-compose.yml on these machines (host networking).

Static, no engine: what the override must guarantee on a shared machine -- no published port, no network
of its own, nothing listening beyond loopback or on a default port -- and that Prometheus/Alertmanager get
configs rendered by the lab's renderer for the moved ports. ``test_compose_on_podman.py`` runs it for real.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from aiops_core import yaml_text
from aiops_core.paths import REPO_ROOT
from aiops_core.topology import COMPONENTS

sys.path.insert(0, str(REPO_ROOT / "docker"))
import podman_override  # docker/podman_override.py

PORTS = dict(zip(podman_override.LISTENERS, range(18700, 18706), strict=True))
IMAGES = {"project": "localhost/aiops-lab:podman", "prometheus": "localhost/p:1", "alertmanager": "localhost/a:1"}


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!reset", lambda loader, node: ("!reset", loader.construct_sequence(node)))


@pytest.fixture(scope="module")
def override(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("override")
    path = podman_override.render(out, PORTS, IMAGES)
    return yaml.load(path.read_text(), Loader=_Loader)["services"], out


def test_every_started_service_uses_host_networking_and_publishes_nothing(override: tuple[dict, Path]) -> None:
    services, _ = override
    base = yaml_text.load(podman_override.COMPOSE_FILE.read_text())["services"]
    for name, svc in services.items():
        if name in podman_override.UNAVAILABLE:
            assert svc == {"profiles": ["unavailable-here"]}
            continue
        assert svc["network_mode"] == "host", name
        assert "networks" not in svc, name
        if base[name].get("ports"):
            assert svc["ports"] == ("!reset", []), f"{name} would publish the compose file's ports"
        assert all(h.endswith(":127.0.0.1") for h in svc["extra_hosts"])
        assert "grafana:127.0.0.1" not in svc["extra_hosts"], "an absent Grafana must not resolve to a default port"


def test_nothing_listens_beyond_loopback_or_on_a_default_port(override: tuple[dict, Path]) -> None:
    services, _ = override
    defaults = {c.default_port for c in COMPONENTS}
    text = yaml.safe_dump(services)
    assert "0.0.0.0" not in text, "host networking: 0.0.0.0 would face the network"
    for port in map(int, re.findall(r"127\.0\.0\.1:(\d+)", text)):
        assert port not in defaults, f"a default port ({port}) in the override"
    assert services["model-service"]["environment"]["AIOPS_HOST"] == "127.0.0.1"
    assert services["model-service"]["environment"]["AIOPS_PORT"] == "18700"
    assert services["pager"]["environment"]["AIOPS_PAGER_HOST"] == "127.0.0.1"
    assert "--web.listen-address=127.0.0.1:18704" in services["prometheus"]["command"]
    assert "--web.listen-address=127.0.0.1:18705" in services["alertmanager"]["command"]
    assert services["prometheus"]["healthcheck"]["test"][-1] == "http://127.0.0.1:18704/-/ready"


def test_monitoring_configs_are_rendered_for_the_moved_ports(override: tuple[dict, Path]) -> None:
    services, out = override
    config = Path(services["prometheus"]["volumes"][0]["source"])
    assert config == out / "monitoring" / "lab"
    prom = yaml_text.load((config / "prometheus.yml").read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in prom["scrape_configs"]}
    assert targets["model-service"] == ["model-service:18700"] and targets["pager"] == ["pager:18703"]
    am = (config / "alertmanager.yml").read_text()
    assert "http://pager:18703/" in am and "/run/secrets/aiops_admin_token" in am
    assert (config / "rules").is_dir() and any((config / "rules").glob("*.yml"))


def test_no_container_inherits_a_probe_of_a_default_port(override: tuple[dict, Path]) -> None:
    """The image's HEALTHCHECK probes the model service on AIOPS_PORT (8000): on host networking, a service
    without its own check (model-init, cli) would probe the host's port 8000 (the tripwire caught it)."""
    services, _ = override
    base = yaml_text.load(podman_override.COMPOSE_FILE.read_text())["services"]
    for name in podman_override.PYTHON_SERVICES:
        if "healthcheck" not in base[name]:
            assert services[name]["healthcheck"] == {"disable": True}, name
        assert services[name]["environment"]["AIOPS_PORT"] == "18700", name
