"""Render a grafana.ini and provisioning for a native Grafana that points at the native Prometheus.

The repo's provisioning files target the compose network (``http://prometheus:9090``); natively the
datasource URL is the loopback Prometheus, so this copies them with that one value changed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from aiops_core.paths import REPO_ROOT


def render_grafana(out_dir: Path, port: int, prometheus_url: str) -> Path:
    prov_src = REPO_ROOT / "grafana" / "provisioning"
    prov = out_dir / "provisioning"
    if prov.exists():
        shutil.rmtree(prov)
    shutil.copytree(prov_src, prov)
    for path in (prov / "datasources").glob("*.y*ml"):
        doc = yaml.safe_load(path.read_text())
        for ds in doc.get("datasources", []):
            if ds.get("type") == "prometheus":
                ds["url"] = prometheus_url
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    for path in (prov / "dashboards").glob("*.y*ml"):
        doc = yaml.safe_load(path.read_text())
        for provider in doc.get("providers", []):
            provider.setdefault("options", {})["path"] = str(REPO_ROOT / "grafana" / "dashboards")
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    data = out_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    ini = out_dir / "grafana.ini"
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
[analytics]
reporting_enabled = false
check_for_updates = false
[dashboards]
default_home_dashboard_path = {REPO_ROOT / "grafana" / "dashboards" / "service.json"}
""")
    return ini
