"""The links ``aiops-lab up`` and ``status`` give are the pages the installed binaries really have (issue 13).

Debian's Prometheus has only the classic UI (``/alerts`` is 404) and Debian's Alertmanager no UI at all: a
learner following the old links got 404s and a placeholder page. Here the real Debian binaries are probed,
every link must answer 200 and every command must run; an upstream-like server (the React UI's ``/alerts``,
Alertmanager's ``/script.js``) gets the upstream links.
"""

from __future__ import annotations

import shlex
import subprocess
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from aiops_core import http as lab_http
from aiops_core.runstate import ComponentRecord
from labs.stack import web_ui
from tests.labs.pager.test_pager_api import start_pager
from tests.support.alertmanager import running_alertmanager
from tests.support.http_server import serving
from tests.support.prometheus import running_prometheus

pytestmark = pytest.mark.integration


def _record(name: str, url: str, state: str = "healthy") -> ComponentRecord:
    return ComponentRecord(name=name, port=int(url.rsplit(":", 1)[1]), url=url, health_url=url, state=state)


def test_debian_binaries_get_classic_prometheus_pages_and_amtool(tmp_path: Path) -> None:
    pager = start_pager(tmp_path / "pager")
    try:
        with running_prometheus(tmp_path / "prom", {}) as prom, \
                running_alertmanager(tmp_path / "am", pager.url + "/alerts") as am_url:
            components = {"prometheus": _record("prometheus", prom.base_url),
                          "alertmanager": _record("alertmanager", am_url), "pager": _record("pager", pager.url)}
            links = web_ui.links(components)

            prom_pages = [link.url for link in links if link.component == "prometheus"]
            assert prom_pages == [prom.base_url + p for p in ("/classic/alerts", "/classic/graph", "/classic/targets")]
            am = [link for link in links if link.component == "alertmanager"]
            assert [link.url for link in am if link.url] == [pager.url + "/"]
            commands = [link.command for link in am if link.command]
            assert commands == [f"amtool --alertmanager.url={am_url} alert query",
                                f"amtool --alertmanager.url={am_url} silence query"]
            for link in links:
                if link.url:
                    assert lab_http.get(link.url, timeout=5).status_code == 200, link
            for command in commands:
                ran = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30)
                assert ran.returncode == 0, (command, ran.stderr)
            assert web_ui.primary(components, links)["alertmanager"] == commands[0]
    finally:
        pager.process.stop()


class _Upstream(BaseHTTPRequestHandler):
    """Answers like upstream Prometheus (React UI) and Alertmanager (Elm UI) on the paths probed."""

    def do_GET(self) -> None:
        self.send_response(200 if self.path in ("/alerts", "/script.js") else 404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_upstream_uis_get_their_own_pages() -> None:
    with serving(_Upstream) as url:
        links = web_ui.links({"prometheus": _record("prometheus", url), "alertmanager": _record("alertmanager", url),
                              "grafana": _record("grafana", url, state="skipped")})
    assert [link.url for link in links] == [url + p for p in ("/alerts", "/graph", "/targets", "/#/alerts",
                                                              "/#/silences")]
