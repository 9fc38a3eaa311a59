"""``aiops-lab load``: send realistic traffic with Locust, watch it live, and find the service's capacity.

Locust runs as a child process with ``labs/load/locustfile.py``; its CSV files and HTML report land in
``<reports>/load/<timestamp>-<profile>/``. Thresholds turn a run into a check (exit 1 when breached), so the
same command serves a learner's first traffic, a drill's background load and a CI smoke test.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import click
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from aiops_core.errors import ExitStatus, LabError
from aiops_core.http import component_problem
from aiops_core.topology import LOCUST
from labs.cli.choices import LazyChoice, scenario_names
from labs.cli.output import console, err_console, info, ok, table
from labs.load import limits, runner
from labs.load.profiles import TRAFFIC_PROFILES, parse_params
from labs.load.thresholds import Limits
from model_service.client import service_url

_PROFILE_HELP = "Traffic shape (details: aiops-lab load profiles)."
_DATA_HELP = "Data profile: the generator scenario the rows come from."


def _target(host: str | None) -> str:
    """The host to load: checked, warned about when not loopback, and answering /healthz."""
    url, loopback = limits.check_host(host or service_url())
    if not loopback:
        err_console.print(f"[yellow]warning:[/yellow] {url} is not a loopback address. Only send load to "
                          "machines you own and operate.", highlight=False)
    problem = component_problem("model-service", url + "/healthz", timeout=3.0)
    if problem is not None and not problem.startswith("HTTP"):
        raise LabError(f"no service answers at {url} ({problem}); start the lab with: aiops-lab up "
                       "(or point --host at a running model service)", ExitStatus.NOT_RUNNING)
    if problem is not None:
        raise LabError(f"GET {url}/healthz answered {problem}, so this is not a healthy model service; "
                       "check --host, or start the lab with: aiops-lab up", ExitStatus.NOT_RUNNING)
    return url


def _shape_params(profile: str, items: tuple[str, ...]) -> str:
    text = ",".join(items)
    try:
        parse_params(profile, text)
    except ValueError as exc:
        raise LabError(f"--shape-param: {exc}") from None
    return text


def _progress_line(p: dict[str, Any], duration_s: float) -> Text:
    """The run so far, counted as the results table counts it (its last line *is* the Aggregated row), and
    the rate over the last seconds, labelled "now" (it differs during a ramp or a spike)."""
    requests, failures = p.get("requests", 0), p.get("failures", 0)
    ratio = failures / requests if requests else 0.0
    return Text(f"{p.get('elapsed_s', 0):4.0f}s/{duration_s:g}s  users {p.get('users', 0)}  "
                f"rps {p.get('rps', 0):.1f} (now {p.get('current_rps', 0):.1f})  reqs {requests}  "
                f"fails {failures} ({ratio:.2%})  p95 {p.get('p95_ms', 0):.0f} ms")


def _summary_rows(summary: dict[str, Any]) -> list[list[str]]:
    """One row per request name; names are escaped because ``[batch]`` would read as rich markup."""
    rows = []
    for e in [*summary["entries"], summary["total"]]:
        rows.append([escape(e["name"]), str(e["requests"]), str(e["failures"]), f"{e['failure_ratio']:.2%}",
                     f"{e['rps']:.1f}", f"{e['p50_ms']:.0f}", f"{e['p95_ms']:.0f}", f"{e['p99_ms']:.0f}",
                     f"{e['max_ms']:.0f}"])
    return rows


def _run_locust(spec: runner.LoadRun) -> dict[str, Any]:
    with Live(Text("starting Locust..."), console=console, refresh_per_second=4) as live:
        result = runner.run(spec, on_progress=lambda p: live.update(_progress_line(p, spec.duration_s)))
    if not console.is_terminal:
        console.line()  # Live leaves its last line open when it is not drawing on a terminal
    if result.summary is None:
        if result.interrupted:
            raise LabError("interrupted before Locust wrote its results", ExitStatus.CHECK_FAILED)
        raise LabError(f"Locust exited with code {result.returncode} without results; its log "
                       f"({spec.log_file}) ends with:\n{result.log_tail()}", ExitStatus.INTERNAL)
    return {**result.summary, "interrupted": result.interrupted}


@click.group()
def cli() -> None:
    """Load tests with Locust: runs, the web UI, capacity."""


@cli.command("profiles")
def load_profiles() -> None:
    """List the traffic shapes (and their --shape-param names) and data profiles."""
    from model_service.scenarios import SCENARIOS

    table("traffic profiles (--profile)", ["name", "what it does", "--shape-param names"],
          [[p.name, p.summary, ", ".join(p.params)] for p in TRAFFIC_PROFILES.values()])
    table("data profiles (--data)", ["name", "what it does"], [[s.name, s.description] for s in SCENARIOS.values()])


@cli.command("run")
@click.option("--profile", default="steady", show_default=True, type=click.Choice(list(TRAFFIC_PROFILES)),
              help=_PROFILE_HELP)
@click.option("--data", default="normal", show_default=True, type=LazyChoice(scenario_names), help=_DATA_HELP)
@click.option("--users", default=10, show_default=True, type=int, help="Peak concurrent users (1-1000).")
@click.option("--duration", default="1m", show_default=True, help="How long: 30s, 2m, 1h30m (1s-24h).")
@click.option("--host", default=None, help="Service URL. Default: the running lab's model service.")
@click.option("--shape-param", multiple=True, metavar="NAME=VALUE", help="Tune the shape, e.g. spike_at=0.5.")
@click.option("--max-failure-ratio", type=float, default=None, help="Fail (exit 1) above this ratio, e.g. 0.01.")
@click.option("--max-p99-ms", type=float, default=None, help="Fail (exit 1) when p99 exceeds this, in ms.")
@click.option("--feedback-delay", default="5s", show_default=True, help="Time from prediction to ground truth.")
@click.option("--feedback-ratio", default=0.5, show_default=True, type=float,
              help="Share of predictions that get ground-truth feedback.")
@click.option("--batch-size", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Rows per batch prediction.")
@click.option("--think-scale", default=1.0, show_default=True, type=float,
              help="Multiplies think times; 0 = back-to-back requests.")
@click.option("--seed", type=int, default=None, help="Data seed for a reproducible run.")
def load_run(profile: str, data: str, users: int, duration: str, host: str | None, shape_param: tuple[str, ...],
             max_failure_ratio: float | None, max_p99_ms: float | None, feedback_delay: str, feedback_ratio: float,
             batch_size: int, think_scale: float, seed: int | None) -> None:
    """Run a headless load test: live progress, saved reports, threshold checks.

    \b
    Examples:
      aiops-lab load run
      aiops-lab load run --profile spike --data rain --users 50 --duration 2m
      aiops-lab load run --duration 30s --max-failure-ratio 0.01 --max-p99-ms 250
    """
    limits.check_users(users)
    duration_s = limits.check_duration(duration)
    lim = Limits(limits.check_ratio(max_failure_ratio, "--max-failure-ratio"),
                 limits.check_positive(max_p99_ms, "--max-p99-ms"))
    limits.check_ratio(feedback_ratio, "--feedback-ratio")
    delay_s = 0.0 if feedback_delay.strip() in ("0", "0s") else limits.check_duration(feedback_delay,
                                                                                     "--feedback-delay")
    if think_scale < 0:
        raise LabError(f"--think-scale {think_scale} must be >= 0")
    params = _shape_params(profile, shape_param)
    url = _target(host)
    out = runner.new_report_dir(profile)
    spec = runner.LoadRun(host=url, out_dir=out, profile=profile, data=data, users=users, duration_s=duration_s,
                          shape_params=params, feedback_delay_s=delay_s, feedback_ratio=feedback_ratio,
                          batch_size=batch_size, think_scale=think_scale, seed=seed)
    info(f"load: {profile} traffic, {data} data, up to {users} users for {duration} -> {url}")
    summary = _run_locust(spec)
    if summary.get("interrupted"):
        info("stopped early: the results cover the time before the stop")
    table(f"results after {summary['elapsed_s']:.0f}s (latency in ms)",
          ["request", "reqs", "fails", "fail %", "rps", "p50", "p95", "p99", "max"], _summary_rows(summary))
    total = summary["total"]
    breaches = lim.breaches(total) if total["requests"] else ["no requests completed"]
    (out / "run.json").write_text(json.dumps({
        "host": url, "profile": profile, "data": data, "users": users, "duration_s": duration_s,
        "shape_params": params, "limits": {"max_failure_ratio": lim.max_failure_ratio, "max_p99_ms": lim.max_p99_ms},
        "breaches": breaches, "total": total}, indent=2))
    info(f"reports: {out} (report.html, locust_stats.csv, locust_stats_history.csv)")
    if breaches:
        raise LabError(f"thresholds breached: {'; '.join(breaches)}; see {out / 'report.html'}",
                       ExitStatus.CHECK_FAILED)
    if lim.max_failure_ratio is not None or lim.max_p99_ms is not None:
        ok("thresholds met")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@cli.command("ui")
@click.option("--host", default=None, help="Service URL. Default: the running lab's model service.")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help=f"Web UI port. Default: {LOCUST.default_port} ({LOCUST.port_env}).")
@click.option("--profile", default="steady", show_default=True, type=click.Choice(list(TRAFFIC_PROFILES)),
              help=_PROFILE_HELP)
@click.option("--data", default="normal", show_default=True, type=LazyChoice(scenario_names), help=_DATA_HELP)
@click.option("--users", default=10, show_default=True, type=int, help="Initial peak users (editable in the UI).")
def load_ui(host: str | None, port: int | None, profile: str, data: str, users: int) -> None:
    """Start Locust's web UI on 127.0.0.1 (Ctrl-C stops it).

    The UI can change users, shape and data profile between runs; it only listens on loopback.
    """
    limits.check_users(users)
    url = _target(host)
    port = port or LOCUST.port()
    if not _port_free(port):
        raise LabError(f"port {port} on 127.0.0.1 is in use (another Locust UI?); pass --port or stop it",
                       ExitStatus.CONFLICT)
    info(f"Locust web UI: http://127.0.0.1:{port}  (target {url}; Ctrl-C to stop)")
    code = runner.run_foreground(runner.ui_command(url, port, profile, data, users, None))
    if code not in (0, 1):
        raise LabError(f"Locust exited with code {code}", ExitStatus.INTERNAL)


@cli.command("capacity")
@click.option("--host", default=None, help="Service URL. Default: the running lab's model service.")
@click.option("--data", default="normal", show_default=True, type=LazyChoice(scenario_names), help=_DATA_HELP)
@click.option("--start-users", default=4, show_default=True, type=int, help="Users in the first step.")
@click.option("--max-users", default=512, show_default=True, type=int, help="Stop doubling here (<= 1000).")
@click.option("--step", "step", default="15s", show_default=True, help="Length of each step.")
@click.option("--budget", default="5m", show_default=True, help="Upper bound on the whole test's time.")
@click.option("--max-p99-ms", default=250.0, show_default=True, type=float, help="Latency limit (the SLO).")
@click.option("--max-failure-ratio", default=0.01, show_default=True, type=float, help="Error limit.")
@click.option("--think-scale", default=0.1, show_default=True, type=float,
              help="Think-time multiplier; lower = more load per user.")
def load_capacity(host: str | None, data: str, start_users: int, max_users: int, step: str, budget: str,
                  max_p99_ms: float, max_failure_ratio: float, think_scale: float) -> None:
    """Find the knee: double users until p99 or errors cross a limit.

    Reports the highest sustainable throughput, prints the per-step table and saves it as capacity.json.

    \b
    Examples:
      aiops-lab load capacity
      aiops-lab load capacity --step 10s --budget 2m --max-p99-ms 100
    """
    from labs.load.capacity import CapacityPlan, find_capacity

    limits.check_users(start_users, "--start-users")
    limits.check_users(max_users, "--max-users")
    if max_users < start_users:
        raise LabError(f"--max-users {max_users} is below --start-users {start_users}")
    step_s = limits.check_duration(step, "--step")
    budget_s = limits.check_duration(budget, "--budget")
    lim = Limits(limits.check_ratio(max_failure_ratio, "--max-failure-ratio"),
                 limits.check_positive(max_p99_ms, "--max-p99-ms"))
    if think_scale < 0:
        raise LabError(f"--think-scale {think_scale} must be >= 0")
    url = _target(host)
    out = runner.new_report_dir("capacity")
    plan = CapacityPlan(start_users, max_users, step_s, budget_s, lim)

    def make_run(users: int, step_dir: Path) -> runner.LoadRun:
        return runner.LoadRun(host=url, out_dir=step_dir, profile="steady", data=data, users=users,
                              duration_s=step_s, shape_params="ramp_seconds=1", think_scale=think_scale,
                              reset_stats=True, html=False)

    info(f"capacity: {start_users}->{max_users} users, {step} per step, within {budget}; limits p99 <= "
         f"{max_p99_ms:g} ms, failures <= {max_failure_ratio:.1%} -> {url}")
    try:
        with console.status("stepping...") as status:
            result = find_capacity(plan, make_run, out, on_step=lambda s: (
                info(f"  {s.users:4d} users: {s.rps:8.1f} rps  p99 {s.p99_ms:5.0f} ms  "
                     f"failures {s.failure_ratio:.2%}  {'ok' if s.ok else 'BREACH'}"),
                status.update(f"stepping past {s.users} users...")))
    except RuntimeError as exc:
        raise LabError(str(exc), ExitStatus.INTERNAL) from None
    table(f"capacity steps ({result.reason})", ["users", "requests", "rps", "p50 ms", "p95 ms", "p99 ms",
                                                 "fail %", "within limits"],
          [[s.users, s.requests, f"{s.rps:.1f}", f"{s.p50_ms:.0f}", f"{s.p95_ms:.0f}", f"{s.p99_ms:.0f}",
            f"{s.failure_ratio:.2%}", "yes" if s.ok else "; ".join(s.breaches)]
           for s in sorted(result.steps, key=lambda s: s.users)])
    (out / "capacity.json").write_text(json.dumps(result.to_json(plan, url, data), indent=2))
    info(f"saved: {out / 'capacity.json'}")
    if result.knee is None:
        raise LabError(f"no step stayed within the limits ({result.reason}); lower --start-users or check the "
                       "service's health first", ExitStatus.CHECK_FAILED)
    ok(f"knee: {result.knee.rps:.0f} rps sustained at {result.knee.users} users (p99 {result.knee.p99_ms:.0f} ms). "
       "Locust shares this machine's CPU with the service, so treat it as a lower bound.")
