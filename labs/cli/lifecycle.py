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

import click
import httpx
from rich.live import Live
from rich.table import Table

from aiops_core import paths
from aiops_core.errors import ExitStatus, LabError
from aiops_core.http import health_problem
from aiops_core.runstate import RunState, pid_alive, run_dir
from labs.cli.output import console, info, ok
from monitoring.render import MODES

_DONE_STATES = {"healthy", "skipped", "failed", "exited", "unhealthy", "stopped"}
_STYLE = {"healthy": "green", "skipped": "yellow", "starting": "cyan"}


def _state_table(state: RunState, elapsed: float | None = None) -> Table:
    title = f"aiops-lab ({state.mode} mode)" + (f" -- {elapsed:.0f}s" if elapsed is not None else "")
    t = Table(title=title, title_justify="left", header_style="bold")
    for col in ("component", "state", "url", "detail"):
        t.add_column(col)
    for rec in state.components.values():
        style = _STYLE.get(rec.state, "red")
        t.add_row(rec.name, f"[{style}]{rec.state}[/{style}]", rec.url if rec.state != "skipped" else "", rec.detail)
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
    info("press Ctrl-C to stop the lab")
    try:
        proc.wait()
    except KeyboardInterrupt:
        _stop_supervisor(proc.pid)


def _print_urls(state: RunState) -> None:
    from labs.stack.plan import build_plan

    ui = {s.name: s.ui_path for s in build_plan(state.mode)}
    for rec in state.components.values():
        if rec.state == "healthy":
            info(f"  {rec.name:<14} {rec.url}{ui.get(rec.name, '')}")
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


def _firing_alerts(prometheus_url: str) -> list[dict[str, object]]:
    resp = httpx.get(prometheus_url + "/api/v1/alerts", timeout=3.0)
    return [a for a in resp.json()["data"]["alerts"] if a.get("state") == "firing"]


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Health of every component (checked now) and the alerts firing in Prometheus."""
    state = RunState.load()
    if state is None or not state.alive():
        raise LabError("the lab is not running; start it with: aiops-lab up", ExitStatus.NOT_RUNNING)
    for rec in state.components.values():
        if rec.state in ("skipped", "failed"):
            continue
        problem = health_problem(rec.health_url)
        if problem is None:
            rec.state = "healthy"
        elif problem.startswith("HTTP"):
            rec.state = "unhealthy"
        else:
            rec.state, rec.detail = "down", f"{problem} on {rec.health_url}"
    alerts: list[dict[str, object]] = []
    prom = state.components.get("prometheus")
    if prom is not None and prom.state == "healthy":
        try:
            alerts = _firing_alerts(prom.url)
        except (httpx.HTTPError, ValueError, KeyError):
            alerts = []
    if as_json:
        click.echo(json.dumps({"mode": state.mode, "components": {n: r.__dict__ for n, r in state.components.items()},
                               "firing_alerts": alerts}, indent=2))
    else:
        console.print(_state_table(state))
        watchdog = [a for a in alerts if a.get("labels", {}).get("alertname") == "Watchdog"]
        alerts = [a for a in alerts if a not in watchdog]
        if prom is not None and prom.state == "healthy":
            info("alert pipeline: " + ("[green]Watchdog firing (Prometheus evaluates rules)[/green]" if watchdog
                                       else "[red]Watchdog NOT firing: rule evaluation is broken[/red]"))
        if alerts:
            t = Table(title="firing alerts", title_justify="left", header_style="bold red")
            for col in ("alert", "severity", "since", "summary"):
                t.add_column(col)
            for a in alerts:
                labels, ann = a.get("labels", {}), a.get("annotations", {})
                t.add_row(labels.get("alertname", ""), labels.get("severity", ""), str(a.get("activeAt", ""))[:19],
                          ann.get("summary", ""))
            console.print(t)
        else:
            info("no alerts firing" if prom is not None and prom.state == "healthy" else
                 "alerts unknown: Prometheus is not running")
    if any(r.state not in ("healthy", "skipped") for r in state.components.values()):
        sys.exit(int(ExitStatus.CHECK_FAILED))
