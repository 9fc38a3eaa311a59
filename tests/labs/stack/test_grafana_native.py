"""A native Grafana gets the compose lab's provisioning, pointed at the native lab (issue 13).

No Grafana binary can be installed here, so this checks what ``aiops-lab up`` would hand one: the ini, the
datasource (the lab's own Prometheus port, the pinned uid the dashboards use) and the dashboard provider (the
repo's dashboards, the "aiops-lab" folder); and that a tarball's ``bin/grafana`` on PATH is found with its home
folder and started as ``grafana server``. The binary in the fake tarball is never run.
"""

from __future__ import annotations

import configparser
import json
import os
from pathlib import Path

import pytest

from aiops_core import yaml_text
from aiops_core.paths import REPO_ROOT
from aiops_core.topology import GRAFANA, PROMETHEUS
from labs.stack.grafana_config import find_grafana, render_grafana
from labs.stack.plan import build_plan
from tests.support.lab import Lab

DASHBOARDS = REPO_ROOT / "grafana" / "dashboards"


def _fake_tarball(root: Path) -> Path:
    home = root / "grafana-v11.9.0"
    (home / "conf").mkdir(parents=True)
    (home / "conf" / "defaults.ini").write_text("# Grafana's defaults\n")
    (home / "bin").mkdir()
    binary = home / "bin" / "grafana"
    binary.write_text("#!/bin/sh\nexit 99\n")  # never run: only found
    binary.chmod(0o755)
    return home


def test_provisioning_points_at_the_native_prometheus_and_the_repo_dashboards(tmp_path: Path) -> None:
    ini_path = render_grafana(tmp_path / "grafana", port=23000, prometheus_url="http://127.0.0.1:29090")

    ini = configparser.ConfigParser()
    ini.read(ini_path)
    assert ini["server"]["http_addr"] == "127.0.0.1" and ini["server"]["http_port"] == "23000"
    prov = Path(ini["paths"]["provisioning"])
    assert Path(ini["paths"]["data"]).is_dir() and Path(ini["paths"]["logs"]).is_dir()
    assert ini["auth.anonymous"]["enabled"] == "true" and ini["auth.anonymous"]["org_role"] == "Viewer"
    assert Path(ini["dashboards"]["default_home_dashboard_path"]) == DASHBOARDS / "service.json"

    [datasource] = yaml_text.load((prov / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert datasource["url"] == "http://127.0.0.1:29090" and datasource["uid"] == "prometheus"
    [provider] = yaml_text.load((prov / "dashboards" / "aiops-lab.yml").read_text())["providers"]
    assert Path(provider["options"]["path"]) == DASHBOARDS and provider["folder"] == "aiops-lab"
    uids = {json.loads(p.read_text())["uid"] for p in DASHBOARDS.glob("*.json")}
    assert len(uids) >= 3, "the provider's folder holds the lab's dashboards"
    for dashboard in DASHBOARDS.glob("*.json"):  # every panel's datasource is the one provisioned here
        refs = {t.get("datasource", {}).get("uid") for panel in json.loads(dashboard.read_text()).get("panels", [])
                for t in panel.get("targets", []) if isinstance(t.get("datasource"), dict)}
        assert refs <= {datasource["uid"], "${datasource}", "$datasource", None}, (dashboard.name, refs)


def test_up_starts_a_tarball_grafana_with_the_labs_prometheus_port(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home = _fake_tarball(tmp_path / "opt")
    lab = Lab.create(tmp_path / "state")
    for key, value in lab.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", f"{home / 'bin'}{os.pathsep}{os.environ['PATH']}")

    found = find_grafana()
    assert found is not None and found.home == home

    [spec] = [s for s in build_plan("lab", lab.state) if s.name == GRAFANA.name]
    ini = lab.state / "run" / "grafana" / "grafana.ini"
    assert spec.argv == [str(home / "bin" / "grafana"), "server", "--homepath", str(home), "--config", str(ini)]
    assert spec.port == lab.port(GRAFANA.name) and spec.health_path == GRAFANA.health_path
    [datasource] = yaml_text.load((lab.state / "run" / "grafana" / "provisioning" / "datasources" /
                                   "prometheus.yml").read_text())["datasources"]
    assert datasource["url"] == f"http://127.0.0.1:{lab.port(PROMETHEUS.name)}"


def test_without_grafana_up_skips_it_and_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = Lab.create(tmp_path / "state")
    for key, value in lab.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    [spec] = [s for s in build_plan("lab", lab.state) if s.name == GRAFANA.name]
    assert spec.argv is None and "README" in spec.skip_reason and "docker compose" in spec.skip_reason
