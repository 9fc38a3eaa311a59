"""Render a grafana.ini and provisioning for a native Grafana that points at the native Prometheus.

The repo's provisioning files target the compose network (``http://prometheus:9090``); natively the
datasource URL is the loopback Prometheus, so this copies them with that one value changed, and points the
dashboard provider at the repo's ``grafana/dashboards`` (the folder compose mounts): the same datasource uid,
the same "aiops-lab" folder, the same dashboards, the service dashboard as home.

Grafana is not in Debian; a learner installs it from Grafana's own APT repository (``grafana`` package:
``/usr/sbin/grafana-server``, home ``/usr/share/grafana``) or unpacks its standalone tarball anywhere and puts
its ``bin/`` on PATH (home: the unpacked folder). :func:`find_grafana` finds either, so ``aiops-lab up``
starts it like any other component.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from aiops_core import yaml_text
from aiops_core.paths import REPO_ROOT

PACKAGE_HOMES = (Path("/usr/share/grafana"), Path("/opt/grafana"))


@dataclass(frozen=True)
class NativeGrafana:
    binary: Path
    home: Path

    def argv(self, ini: Path) -> list[str]:
        """``grafana server`` (the single binary since Grafana 10) or the older ``grafana-server``."""
        sub = ["server"] if self.binary.name == "grafana" else []
        return [str(self.binary), *sub, "--homepath", str(self.home), "--config", str(ini)]


def _is_home(path: Path) -> bool:
    return (path / "conf" / "defaults.ini").is_file()


def find_grafana() -> NativeGrafana | None:
    """The Grafana on PATH, with its home folder: beside the binary for a tarball (``<home>/bin/grafana``),
    else a package's. None when neither ``grafana-server`` nor ``grafana`` is on PATH."""
    found = shutil.which("grafana-server") or shutil.which("grafana")
    if found is None:
        return None
    binary = Path(found)
    candidates = (binary.resolve().parent.parent, binary.parent.parent, *PACKAGE_HOMES)
    return NativeGrafana(binary, next((c for c in candidates if _is_home(c)), PACKAGE_HOMES[0]))


def render_grafana(out_dir: Path, port: int, prometheus_url: str) -> Path:
    """Write ``out_dir/grafana.ini`` and ``out_dir/provisioning``; returns the ini's path."""
    prov_src = REPO_ROOT / "grafana" / "provisioning"
    prov = out_dir / "provisioning"
    if prov.exists():
        shutil.rmtree(prov)
    shutil.copytree(prov_src, prov)
    for path in (prov / "datasources").glob("*.y*ml"):
        doc = yaml_text.load(path.read_text())
        for ds in doc.get("datasources", []):
            if ds.get("type") == "prometheus":
                ds["url"] = prometheus_url
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    for path in (prov / "dashboards").glob("*.y*ml"):
        doc = yaml_text.load(path.read_text())
        for provider in doc.get("providers", []):
            provider.setdefault("options", {})["path"] = str(REPO_ROOT / "grafana" / "dashboards")
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    data = out_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    (out_dir / "logs").mkdir(exist_ok=True)
    ini = out_dir / "grafana.ini"
    # The same settings as the compose service's GF_* environment (docker-compose.yml), minus the admin
    # password: a native Grafana keeps its own admin account in data/.
    ini.write_text(f"""[server]
http_addr = 127.0.0.1
http_port = {port}
[paths]
data = {data}
logs = {out_dir / "logs"}
provisioning = {prov}
[auth.anonymous]
enabled = true
org_role = Viewer
[users]
allow_sign_up = false
[analytics]
reporting_enabled = false
check_for_updates = false
check_for_plugin_updates = false
[news]
news_feed_enabled = false
[plugins]
preinstall_disabled = true
[dashboards]
default_home_dashboard_path = {REPO_ROOT / "grafana" / "dashboards" / "service.json"}
""")
    return ini
