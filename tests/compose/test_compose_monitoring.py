"""The Prometheus/Alertmanager configs compose mounts: a fresh render of the one source, valid for the
real tools, pointing at the compose services.

promtool and amtool are the Debian 2.42 / 0.25 builds -- the versions docker-compose.yml pins -- so
"promtool accepts it" means the container will too.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest

from aiops_core import yaml_text
from monitoring.binaries import APT_INSTALL
from monitoring.compose import generate
from monitoring.render import MODES
from tests.compose import compose_file

COMPOSE_DIR = generate.COMPOSE_DIR
SERVICES = compose_file.load()["services"]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed; install it with: {APT_INSTALL}")
    return path


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_committed_configs_equal_a_fresh_render(tmp_path: Path) -> None:
    generate.generate(tmp_path)
    for mode in MODES:
        fresh, committed = tmp_path / mode, COMPOSE_DIR / mode
        assert _files(fresh) == _files(committed), (
            f"monitoring/compose/{mode} is out of date; run: .venv/bin/python -m monitoring.compose.generate")
        stale = [f for f in sorted(_files(fresh)) if not filecmp.cmp(fresh / f, committed / f, shallow=False)]
        assert not stale, (f"monitoring/compose/{mode}: {stale} differ from a fresh render of monitoring/prometheus "
                           "and monitoring/alertmanager; run: .venv/bin/python -m monitoring.compose.generate")


@pytest.mark.parametrize("mode", MODES)
def test_promtool_accepts_the_compose_prometheus_config_and_rules(mode: str) -> None:
    done = subprocess.run([_tool("promtool"), "check", "config", str(COMPOSE_DIR / mode / "prometheus.yml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    rule_files = sorted((COMPOSE_DIR / mode / "rules").glob("*.yml"))
    assert rule_files and f"{len(rule_files)} rule files found" in done.stdout


@pytest.mark.parametrize("mode", MODES)
def test_amtool_accepts_the_compose_alertmanager_config(mode: str) -> None:
    done = subprocess.run([_tool("amtool"), "check-config", str(COMPOSE_DIR / mode / "alertmanager.yml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("mode", MODES)
def test_targets_are_compose_services_on_their_container_ports(mode: str) -> None:
    prom = yaml_text.load((COMPOSE_DIR / mode / "prometheus.yml").read_text())
    targets = [t for job in prom["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    targets += [t for am in prom["alerting"]["alertmanagers"] for sc in am["static_configs"] for t in sc["targets"]]
    assert targets
    for target in targets:
        host, port = target.rsplit(":", 1)
        assert host in SERVICES, f"{target}: {host} is not a compose service"
        published = [p.rsplit(":", 1)[1] for p in SERVICES[host].get("ports", [])]
        assert port in published, f"{target}: {host} listens on {published}"
    am = yaml_text.load((COMPOSE_DIR / mode / "alertmanager.yml").read_text())
    hooks = [h["url"] for r in am["receivers"] for h in r.get("webhook_configs", [])]
    assert hooks and all(h.startswith(generate.pager_url() + "/") for h in hooks), hooks


def test_the_compose_lab_resends_alerts_as_often_as_the_native_lab() -> None:
    """A hung Prometheus must page as fast in the compose lab as natively (issue 14, item 3): the resend delay
    is a flag, not config, so docker-compose.yml must pass the renderer's lab value by default and in
    .env.example, and production mode's documented value is Prometheus's default."""
    from monitoring.render import LAB_RESEND_DELAY

    flag = "--rules.alert.resend-delay="
    for env in (dict(compose_file.EXAMPLE_SECRETS), None):  # nothing set, and a learner's .env from the example
        command = compose_file.load(env)["services"]["prometheus"]["command"]
        assert [a for a in command if a.startswith(flag)] == [flag + LAB_RESEND_DELAY], (env, command)
    production = compose_file.load({**compose_file.EXAMPLE_SECRETS, "AIOPS_PROMETHEUS_RESEND_DELAY": "1m"})
    production = production["services"]["prometheus"]["command"]
    assert flag + "1m" in production
    assert "1m for production" in compose_file.ENV_EXAMPLE.read_text()
