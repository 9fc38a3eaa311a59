"""``aiops-lab up | down | status``: the native lab's lifecycle, like ``docker compose up/down/ps``."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import click
import httpx
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from aiops_core import http as lab_http
from aiops_core import paths
from aiops_core.alertmanager import Alertmanager, matcher_text, matches
from aiops_core.errors import ExitStatus, LabError
from aiops_core.http import NOT_IDENTIFIED, component_problem
from aiops_core.port_owner import port_owner
from aiops_core.runstate import ComponentRecord, RunState, pid_alive, run_dir
from labs.cli.output import ago, alert_cell, alert_column, clock, console, info, ok
from labs.stack import labview, web_ui
from monitoring.render import MODES

_DONE_STATES = {"healthy", "skipped", "failed", "exited", "unhealthy", "stopped"}
_STYLE = {"healthy": "green", "skipped": "yellow", "starting": "cyan"}


def _state_table(state: RunState, elapsed: float | None = None, open_: dict[str, str] | None = None) -> Table:
    """``open_``: component -> the page (or command) to open, probed by ``web_ui``; else the base URL."""
    title = f"aiops-lab ({state.mode} mode)" + (f" -- {elapsed:.0f}s" if elapsed is not None else "")
    t = Table(title=title, title_justify="left", header_style="bold")
    for col in ("component", "state", "open" if open_ else "url", "detail"):
        t.add_column(col, overflow="fold" if col in ("open", "url") else "ellipsis")  # a URL is never cut short
    for rec in state.components.values():
        style = _STYLE.get(rec.state, "red")
        where = (open_ or {}).get(rec.name, rec.url)
        t.add_row(rec.name, f"[{style}]{rec.state}[/{style}]", escape(where) if rec.state != "skipped" else "",
                  rec.detail)
    return t


def _ensure_model() -> None:
    from model_service import training
    from model_service.registry import Registry

    reg = Registry(paths.models_dir())
    if reg.active() is not None:
        return
    with console.status("first start: training the delivery-time model..."):
        version = reg.register(training.train())
        reg.activate(version, actor="aiops-lab-up")
    ok(f"trained and activated model {version}")


@click.command("up")
@click.option("--mode", type=click.Choice(MODES), default="lab", show_default=True,
              help="lab: short scrape/alert intervals so drills play out in minutes; production: shipped defaults.")
@click.option("-d", "--detach", is_flag=True, help="Return once healthy and leave the lab running in the background.")
@click.option("--timeout", default=180, show_default=True, type=click.IntRange(10, 1800),
              help="Seconds to wait for all components to become healthy.")
def up(mode: str, detach: bool, timeout: int) -> None:
    """Start the whole lab natively and wait until every component is healthy.

    \b
    Examples:
      aiops-lab up              # foreground; Ctrl-C stops everything
      aiops-lab up -d           # background; stop with: aiops-lab down
    """
    current = RunState.load()
    if current is not None and current.alive():
        raise LabError(f"the lab is already running (supervisor pid {current.supervisor_pid}); "
                       "see: aiops-lab status, or stop it: aiops-lab down", ExitStatus.CONFLICT)
    _ensure_model()
    rdir = run_dir()
    rdir.mkdir(parents=True, exist_ok=True)
    (rdir / "lab.json").unlink(missing_ok=True)
    log = (rdir / "supervisor.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "labs.stack", "--mode", mode], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, env=os.environ.copy())
    _interrupt_on(signal.SIGTERM, signal.SIGHUP)
    ready = False
    try:
        _wait_until_started(proc, detach, timeout)
        if detach:
            return
        info("press Ctrl-C to stop the lab")
        ready = True
        proc.wait()
    except KeyboardInterrupt:
        # The supervisor runs in a session of its own (a Ctrl-C meant for `up` must not kill half the lab on
        # its way), so this is the one place it is stopped: a start abandoned half way, or the foreground lab.
        _stop_supervisor(proc.pid)
        if not ready:
            sys.exit(130)


def _interrupt_on(*signals: signal.Signals) -> None:
    """Treat ``kill``, ``timeout`` and a closed terminal (SIGTERM, SIGHUP) like Ctrl-C: the lab stops with its
    ``up`` instead of running on, orphaned, on the default ports."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for sig in signals:
        signal.signal(sig, interrupt)


def _wait_until_started(proc: subprocess.Popen[bytes], detach: bool, timeout: int) -> None:
    """Wait for the components with a live table and print where to open them."""
    rdir = run_dir()
    started = time.monotonic()
    state = None
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while time.monotonic() - started < timeout:
            state = RunState.load()
            if proc.poll() is not None:
                break
            if state is not None:
                live.update(_state_table(state, time.monotonic() - started))
                if all(rec.state in _DONE_STATES for rec in state.components.values()):
                    break
            time.sleep(0.25)
    if proc.poll() is not None or state is None:
        tail = (rdir / "supervisor.log").read_text(errors="replace")[-2000:]
        raise LabError(f"the lab supervisor exited during start-up:\n{tail}", ExitStatus.NOT_RUNNING)
    healthy = all(r.state in ("healthy", "skipped") for r in state.components.values())
    info(f"\nready in {time.monotonic() - started:.1f}s" if healthy else "\nsome components are not healthy "
         "(see the detail column and their logs in " + str(rdir / "logs") + ")")
    _print_urls(state)
    if detach:
        info("the lab runs in the background; stop it with: aiops-lab down")
        if not healthy:
            sys.exit(int(ExitStatus.CHECK_FAILED))
        return


def _print_urls(state: RunState) -> None:
    """What to open, probed against the binaries running (Debian's Prometheus has only the classic UI, its
    Alertmanager none: ``labs.stack.web_ui``)."""
    healthy = {name: rec for name, rec in state.components.items() if rec.state == "healthy"}
    for link in web_ui.links(healthy):
        info(f"  {link.component:<14} {escape(link.text()):<60} {link.what}")
    info("next: aiops-lab status | aiops-lab load run --duration 1m | aiops-lab drill list")


def _stop_supervisor(pid: int, timeout: float = 60.0) -> None:
    with console.status("stopping the lab (flushing logs)..."):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):  # reap it if it is our child (foreground 'up')
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.2)
    if pid_alive(pid):
        raise LabError(f"the supervisor (pid {pid}) did not stop within {timeout:.0f}s; kill it: kill -9 {pid}",
                       ExitStatus.INTERNAL)
    ok("lab stopped")


@click.command("down")
@click.option("--reset", is_flag=True, help="Also delete the lab's state: models, logs, metrics, reports.")
def down(reset: bool) -> None:
    """Stop a lab started with 'aiops-lab up' (from any terminal)."""
    state = RunState.load()
    if state is not None and state.alive():
        _stop_supervisor(state.supervisor_pid)
    else:
        info("the lab is not running")
    if reset:
        target = paths.state_dir()
        if target.exists():
            shutil.rmtree(target)
        ok(f"deleted {target}")


def _firing_alerts(prometheus_url: str) -> list[dict[str, Any]]:
    resp = lab_http.get(prometheus_url + "/api/v1/alerts", timeout=3.0)
    return [a for a in resp.json()["data"]["alerts"] if a.get("state") == "firing"]


_PIPELINE = ("prometheus", "alertmanager", "pager")  # the path of a page, in order


def _not_running(rec: ComponentRecord | None) -> str | None:
    """None when the component answered its health check just now, else how it is not there."""
    if rec is None:
        return "not part of this lab"
    if rec.state == "healthy":
        return None
    return {"down": "unreachable", "skipped": "not running (skipped)"}.get(rec.state, rec.state)


def alert_pipeline(components: dict[str, ComponentRecord], watchdog_firing: bool,
                   heartbeat: dict[str, Any] | None) -> tuple[str, list[str]]:
    """Would a page reach anyone now? ``(state, findings)``, one line per finding.

    ``down``: a link of Prometheus -> Alertmanager -> pager is not there, or the Watchdog stopped arriving at
    the pager; ``unconfirmed``: nothing is known to be broken, but no Watchdog has made the whole trip yet (a
    lab that just started, or rules that do not run); ``ok``: the Watchdog reached the pager in time.
    ``heartbeat`` is the pager's ``GET /heartbeat``, None when it could not be asked. A Watchdog firing in
    Prometheus proves only the first link, which is why this does not stop there.
    """
    down, unsure = [], []
    prometheus = _not_running(components.get("prometheus"))
    if prometheus is not None:
        down.append(f"Prometheus is {prometheus}: no alert rule is evaluated")
    elif not watchdog_firing:
        unsure.append("Watchdog is not firing in Prometheus: its rules have not run yet, or rule evaluation "
                      "is broken")
    alertmanager = _not_running(components.get("alertmanager"))
    if alertmanager is not None:
        down.append(f"Alertmanager is {alertmanager}: alerts firing in Prometheus are delivered to no one")
    pager = _not_running(components.get("pager"))
    if pager is not None:
        down.append(f"the pager is {pager}: Alertmanager has nowhere to deliver pages")
    if down:
        return "down", down + unsure
    if unsure:
        return "unconfirmed", unsure
    if heartbeat is None:
        return "unconfirmed", ["the pager did not say when the Watchdog last reached it"]
    if heartbeat.get("last_seen") is None:
        return "unconfirmed", ["Watchdog fires in Prometheus; no heartbeat has reached the pager yet "
                               "(Alertmanager sends the first within a minute of starting)"]
    age = ago(heartbeat["age_seconds"])
    if not heartbeat.get("healthy"):
        return "down", [f"Watchdog fires in Prometheus, but its heartbeat last reached the pager {age} ago "
                        f"(timeout {heartbeat['timeout_seconds']:g}s): Alertmanager is not delivering"]
    return "ok", [f"Watchdog fires in Prometheus and reached the pager through Alertmanager {age} ago"]


def _pager_heartbeat(components: dict[str, ComponentRecord]) -> dict[str, Any] | None:
    from labs.pager.client import PagerClient

    pager = components.get("pager")
    if pager is None or pager.state != "healthy":
        return None
    try:
        return PagerClient(pager.url, timeout=3.0).heartbeat()
    except LabError:
        return None


def _print_pipeline(verdict: str, findings: list[str]) -> None:
    if verdict == "ok":
        info(f"alert pipeline: [green]OK[/green] -- {escape(findings[0])}")
        return
    if verdict == "down":
        info("alert pipeline: [red]DOWN -- pages will not reach you[/red]")
    else:
        info("alert pipeline: [yellow]NOT CONFIRMED -- no Watchdog has reached the pager[/yellow]")
    for finding in findings:
        info(f"  - {escape(finding)}")


def _since(active_at: object) -> str:
    """Prometheus's ``activeAt`` (RFC 3339, nanoseconds) as a local clock time."""
    try:
        return clock(datetime.fromisoformat(str(active_at)[:19]).replace(tzinfo=UTC).timestamp())
    except ValueError:
        return str(active_at)[:19]


def _silences(components: dict[str, Any], firing: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                                                 dict[str, list[str]]]:
    """Active silences, and alert name -> the ids of the silences that match it among the alerts firing in
    Prometheus (matched here, with Alertmanager's semantics: Alertmanager itself marks an alert silenced only
    when its notification pipeline next runs). Both empty when Alertmanager does not answer: the pipeline
    findings say so."""
    rec = components.get("alertmanager")
    if rec is None or rec.state != "healthy":
        return [], {}
    try:
        silences = Alertmanager(rec.url, timeout=3.0).active_silences()
    except LabError:
        return [], {}
    muted: dict[str, list[str]] = {}
    for alert in firing:
        labels = alert.get("labels", {})
        for sil in silences:
            if matches(sil["matchers"], labels):
                muted.setdefault(labels.get("alertname", "?"), []).append(sil["id"])
    return silences, muted


def _silences_table(silences: list[dict[str, Any]], muted: dict[str, list[str]], url: str) -> None:
    t = Table(title="active silences (in Alertmanager): matching alerts page nobody", title_justify="left",
              header_style="bold yellow")
    for col in ("id", "matchers", "by", "ends in", "muting now"):
        t.add_column(col, overflow="fold")
    for sil in silences:
        names = sorted(name for name, ids in muted.items() if sil["id"] in ids)
        t.add_row(sil["id"], escape(matcher_text(sil["matchers"])), escape(sil.get("createdBy") or "?"),
                  _in(sil["ends_at"]), ", ".join(names) or "-")
    console.print(t)
    info(f"expire one: amtool --alertmanager.url={url} silence expire ID (or curl -X DELETE {url}/api/v2/silence/ID)")


def _in(ts: float) -> str:
    left = max(0, int(ts - time.time()))
    return f"{left // 3600}h{left % 3600 // 60:02d}m" if left >= 3600 else f"{left // 60}m{left % 60:02d}s"


def _alerts_table(alerts: list[dict[str, Any]], muted: dict[str, list[str]] | None = None) -> None:
    muted = muted or {}
    t = Table(title="firing alerts (in Prometheus)", title_justify="left", header_style="bold red")
    alert_column(t, (a.get("labels", {}) for a in alerts))
    for col in ("severity", "since", "summary"):
        t.add_column(col)
    for a in alerts:
        labels, ann = a.get("labels", {}), a.get("annotations", {})
        severity = labels.get("severity", "")
        if labels.get("alertname") in muted:
            severity += " [yellow](silenced)[/yellow]"
        t.add_row(alert_cell(labels), severity, _since(a.get("activeAt", "")), escape(ann.get("summary", "")))
    console.print(t)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Health of every component (checked now), whether a page would reach you, and the firing alerts."""
    state = labview.load()  # the compose stack too (--target compose): its published ports, no lab record
    if state is None or not state.alive():
        raise LabError(labview.not_running_hint(), ExitStatus.NOT_RUNNING)
    for rec in state.components.values():
        if rec.state in ("skipped", "failed"):
            continue
        problem = component_problem(rec.name, rec.health_url)
        if problem is None:
            rec.state = "healthy"
        elif problem.startswith(NOT_IDENTIFIED):  # a 200 from another program on the port (issue 14, 9a)
            owner = port_owner(rec.port)
            rec.state = "impostor"
            rec.detail = (f"port {rec.port} is answered by {owner or 'another program'}, not by the {rec.name}; "
                          f"stop it{f' (kill {owner.pid})' if owner else ''}, then: aiops-lab service restart "
                          f"{rec.name}")
        elif problem.startswith("HTTP"):
            rec.state = "unhealthy"
        else:
            rec.state, rec.detail = "down", f"{problem} on {rec.health_url}"
    alerts: list[dict[str, Any]] = []
    prom = state.components.get("prometheus")
    if prom is not None and prom.state == "healthy":
        try:
            alerts = _firing_alerts(prom.url)
        except (httpx.HTTPError, ValueError, KeyError):
            alerts = []
    watchdog = [a for a in alerts if a.get("labels", {}).get("alertname") == "Watchdog"]
    alerts = [a for a in alerts if a not in watchdog]
    verdict, findings = alert_pipeline(state.components, bool(watchdog), _pager_heartbeat(state.components))
    silences, muted = _silences(state.components, watchdog + alerts)
    links = web_ui.links({n: r for n, r in state.components.items() if r.state == "healthy"})
    if as_json:
        click.echo(json.dumps({"mode": state.mode, "components": {n: r.__dict__ for n, r in state.components.items()},
                               "links": web_ui.as_json(links),
                               "alert_pipeline": {"state": verdict, "findings": findings},
                               "firing_alerts": watchdog + alerts,
                               "silences": [{"id": x["id"], "matchers": x["matchers"], "createdBy": x.get("createdBy"),
                                             "comment": x.get("comment"), "endsAt": x["endsAt"],
                                             "muting": sorted(n for n, ids in muted.items() if x["id"] in ids)}
                                            for x in silences]}, indent=2))
    else:
        console.print(_state_table(state, open_=web_ui.primary(state.components, links)))
        _print_pipeline(verdict, findings)
        if alerts:
            _alerts_table(alerts, muted)
        else:
            info("no alerts firing" if prom is not None and prom.state == "healthy" else
                 "alerts unknown: Prometheus is not running")
        if silences:
            _silences_table(silences, muted, state.components["alertmanager"].url)
    # Exit 1 when a component that should run does not, or when every link runs and the Watchdog still stopped
    # arriving. A link skipped at 'up' (binary not installed) is reported above but, as for 'up', not a failure.
    links_run = all(_not_running(state.components.get(name)) is None for name in _PIPELINE)
    if any(r.state not in ("healthy", "skipped") for r in state.components.values()) or (
            verdict == "down" and links_run):
        sys.exit(int(ExitStatus.CHECK_FAILED))
