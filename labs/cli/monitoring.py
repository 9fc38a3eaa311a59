"""``aiops-lab monitoring render``: put the running lab's Prometheus and Alertmanager config back to the source.

``aiops-lab up`` renders ``monitoring/prometheus`` and ``monitoring/alertmanager`` into ``<state>/run/config``
with the lab's real ports. During an incident that copy may be edited by hand (a bad config push is fixed by
editing it and POSTing ``/-/reload``); this command is the supported way back: render again from the sources
for the ports the running lab records (``run/lab.json``, whatever the terminal's environment says), then
reload both servers -- no restart, so no scrape gap and no lost alert state.

Reloads go straight to ``/-/reload`` rather than through ``Prometheus.reload()``: a refused config comes back
as the reply's body (the YAML error), which is the one thing the learner needs to read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click
import httpx
import yaml

from aiops_core import http as lab_http
from aiops_core import paths, yaml_text
from aiops_core.errors import ExitStatus, LabError, NotRunning
from aiops_core.runstate import RunState, component_url, config_dir, target
from aiops_core.topology import ALERTMANAGER, LOOPBACK, PAGER, PROMETHEUS
from labs.cli.output import info, ok
from monitoring import render

RELOAD_TIMEOUT_S = 10.0


@click.group()
def cli() -> None:
    """The lab's monitoring configuration (Prometheus and Alertmanager)."""


def _running_lab() -> RunState:
    if target() == "compose":
        raise LabError("the compose lab mounts its monitoring config read-only from monitoring/compose/; re-render "
                       "it with: .venv/bin/python -m monitoring.compose.generate, then reload: curl -X POST "
                       f"{component_url(PROMETHEUS.name)}/-/reload", ExitStatus.USAGE)
    state = RunState.load()
    if state is None or not state.alive():
        raise NotRunning("the lab is not running, so there is no monitoring config to re-render; start it with: "
                         "aiops-lab up -d (it renders the config as it starts)")
    return state


def _targets(state: RunState) -> dict[str, str]:
    """Scrape targets as ``aiops-lab up`` rendered them: every job's component at its recorded port."""
    return {name: urlparse(rec.url).netloc for name, rec in state.components.items() if name in render.JOBS}


def _snapshot(root: Path) -> dict[str, Any]:
    """Each rendered file's parsed content (comments aside: a pushed file carries its own)."""
    out: dict[str, Any] = {}
    for path in sorted(root.rglob("*.yml")) if root.is_dir() else []:
        try:
            out[str(path.relative_to(root))] = yaml_text.load(path.read_text())
        except (OSError, yaml.YAMLError):
            out[str(path.relative_to(root))] = None  # unreadable counts as changed
    return out


# How to see why a server refuses its rendered file (the same checks the test suite runs).
_CHECK = {PROMETHEUS.name: "promtool check config {dir}/prometheus.yml",
          ALERTMANAGER.name: "amtool check-config {dir}/alertmanager.yml"}


def _reload(name: str, url: str) -> LabError | None:
    """POST ``/-/reload``; the error says what the server answered, or that it does not answer."""
    try:
        resp = lab_http.post(url + "/-/reload", timeout=RELOAD_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return NotRunning(f"{name} at {url} does not answer ({type(exc).__name__}); the new config is written and "
                          f"is read when it starts: aiops-lab service restart {name}")
    if resp.status_code != 200:
        return LabError(f"{name} refused the re-rendered config (HTTP {resp.status_code}): {resp.text.strip()[:500]}"
                        f"\n  see why: {_CHECK[name].format(dir=config_dir())}; fix the source under monitoring/ and "
                        "run this again", ExitStatus.USAGE)
    return None


@cli.command("render")
def monitoring_render() -> None:
    """Re-render the running lab's Prometheus/Alertmanager config from the repo and reload both.

    Overwrites <state>/run/config/ (prometheus.yml, rules/*.yml, alertmanager.yml) with a fresh render of
    monitoring/prometheus and monitoring/alertmanager for the ports and mode of the lab that runs, undoing
    any hand edit, then POSTs /-/reload to Prometheus and Alertmanager. Use it after fixing an incident by
    editing the rendered copy, or to be sure the monitoring config is the reviewed one.

    \b
    Examples:
      aiops-lab monitoring render       # restore and reload
      aiops-lab status                  # then: are the targets up, which alerts fire?

    Exit status: 0 done, 2 a server refused the config, 3 the lab (or a server) is not running.
    """
    state = _running_lab()
    out = config_dir()
    pager = state.components.get(PAGER.name)
    info(f"rendering monitoring/prometheus and monitoring/alertmanager ({state.mode} mode) into {out}")
    before = _snapshot(out)
    render.render(out, targets=_targets(state), lab_mode=state.mode == "lab",
                  pager_url=pager.url if pager else f"http://{LOOPBACK}:{PAGER.port()}",
                  pager_credentials_file=paths.admin_token_path())
    after = _snapshot(out)
    changed = [name for name in after if name not in before or before[name] != after[name]]
    for name in changed:
        ok(f"{name}: changed back to the source" if name in before else f"{name}: written")
    unchanged = len(after) - len(changed)
    if unchanged:
        ok(f"{unchanged} file(s) already matched the source" if changed else "every file already matched the source")
    errors = []
    for comp in (PROMETHEUS, ALERTMANAGER):
        rec = state.components.get(comp.name)
        if rec is None or rec.state == "skipped":
            info(f"{comp.name} does not run in this lab: nothing to reload")
            continue
        error = _reload(comp.name, rec.url)
        if error is None:
            ok(f"{comp.name} reloaded ({rec.url})")
        else:
            errors.append(error)
    if errors:
        worst = next((e for e in errors if isinstance(e, NotRunning)), errors[0])
        raise LabError("\n".join(e.message for e in errors), worst.status)
    info(f"next: aiops-lab status; the scrape targets: curl -fsS {component_url(PROMETHEUS.name)}/api/v1/targets")
