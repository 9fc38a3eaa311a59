"""Every URL the README's table and ``aiops-lab status`` give a learner answers 200 on a Debian-packaged lab.

Issue 13: the README linked Prometheus's ``/alerts`` (404 in Debian's package) and promised a web UI on
Alertmanager's port that Debian's package does not serve. Played by the drill pool's lifecycle job
(``round_trip.py``) on a lab ``aiops-lab up`` started with the Debian binaries, so it costs no lab of its own.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess

from aiops_core import http as lab_http
from aiops_core.paths import REPO_ROOT
from aiops_core.topology import COMPONENTS
from tests.support.lab import Lab

URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/[^\s|`)]*)?")
BY_DEFAULT_PORT = {c.default_port: c.name for c in COMPONENTS}


def readme_urls() -> list[tuple[str, str]]:
    """``(component, path)`` of every URL in the README's component table."""
    text = (REPO_ROOT / "README.md").read_text()
    table = text[text.index("| component | URL |"):]
    table = table[:table.index("\n\n")]
    return [(BY_DEFAULT_PORT[int(port)], path or "/") for port, path in URL.findall(table)]


def _answers(url: str) -> None:
    resp = lab_http.get(url, timeout=10)
    assert resp.status_code == 200, f"{url} -> {resp.status_code}"


def links_answer(lab: Lab) -> None:
    status = lab.cli("status", "--json")
    record = json.loads(status.stdout)
    running = {name for name, c in record["components"].items() if c["state"] == "healthy"}
    links = record["links"]
    assert {link["component"] for link in links} == running, links
    for link in links:
        if link["url"]:
            _answers(link["url"])
        else:
            ran = subprocess.run(shlex.split(link["command"]), capture_output=True, text=True, timeout=60)
            assert ran.returncode == 0, (link, ran.stderr)
    shown = URL.finditer(lab.cli("status").stdout)
    for match in shown:
        _answers(match.group(0))
    checked = 0
    for component, path in readme_urls():
        if component in running:
            _answers(lab.url(component) + path)
            checked += 1
    assert checked >= 6, f"only {checked} README URLs belong to running components: {readme_urls()}"
