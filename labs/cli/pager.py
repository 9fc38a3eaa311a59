"""``aiops-lab pager``: the pages Alertmanager delivered, acknowledgements, the Watchdog heartbeat, and a
watch on the alert path that does not depend on the pager.

Acknowledging a page is how a learner says "I am on it": the drill engine scores time-to-detect from the
page's first notification to its acknowledgement. ``pager watch`` is the one channel left when the pager
itself is dead (it cannot page about that): it asks each component directly and rings the terminal bell.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from aiops_core.durations import parse_seconds
from aiops_core.errors import CheckFailed, ExitStatus, LabError
from aiops_core.runstate import component_url
from aiops_core.topology import ALERTMANAGER, PROMETHEUS
from labs.cli.output import ago, alert_cell, alert_column, clock, console, info, ok
from labs.pager.client import PagerClient
from labs.pager.watch import Finding, PathWatch


def _status(page: dict[str, Any]) -> str:
    return page["status"] + (", acked" if page.get("acked_at") else "")


def _pages_table(title: str, pages: list[dict[str, Any]]) -> None:
    """One row per page, readable at 80 columns: alert names whole (never cut), each with the labels that
    tell its pages apart; an alert's summary and runbook once below, not repeated and truncated per row."""
    t = Table(title=title, title_justify="left", header_style="bold")
    labels = [{"alertname": p["alertname"], **p.get("labels", {})} for p in pages]
    t.add_column("time", no_wrap=True)
    alert_column(t, labels)
    t.add_column("severity")
    t.add_column("status")
    for p, page_labels in zip(pages, labels, strict=True):
        t.add_row(clock(p["paged_at"]), alert_cell(page_labels), p["severity"], _status(p))
    console.print(t)
    newest: dict[str, dict[str, Any]] = {}
    for p in pages:
        newest.setdefault(p["alertname"], p)
    for name, page in newest.items():
        console.print(f"[bold]{escape(name)}[/bold]: {escape(page['summary'])}", highlight=False)
        if page["runbook_url"]:
            console.print(f"  runbook: {escape(page['runbook_url'])}", highlight=False, soft_wrap=True)


@click.group()
def cli() -> None:
    """The lab pager: pages received from Alertmanager."""


@cli.command("list")
@click.option("--since", default="24h", show_default=True, help="Only pages opened within this window (90s, 15m, 2h).")
@click.option("--status", type=click.Choice(["firing", "resolved"]), default=None, help="Only firing or resolved.")
@click.option("--alertname", default=None, help="Only pages of this alert.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000), help="At most this many.")
def pager_list(since: str, status: str | None, alertname: str | None, limit: int) -> None:
    """List pages, newest first (one per firing episode of an alert).

    \b
    Examples:
      aiops-lab pager list
      aiops-lab pager list --since 15m --status firing
    """
    seconds = parse_seconds(since, "--since")
    client = PagerClient()
    pages = client.pages(since_seconds=seconds, status=status, alertname=alertname, limit=limit)
    if not pages:
        info(f"no {status + ' ' if status else ''}pages in the last {since}")
        return
    _pages_table(f"pages in the last {since}", pages)
    info(f"in a browser, runbooks linked: {client.base_url}/")


@cli.command("ack")
@click.argument("target", metavar="FINGERPRINT_OR_ALERTNAME")
@click.option("--by", default="cli", show_default=True, help="Who acknowledges (recorded in the timeline).")
def pager_ack(target: str, by: str) -> None:
    """Acknowledge the open pages of an alert (by fingerprint or alert name).

    \b
    Example:
      aiops-lab pager ack ModelServiceHighErrorRate
    """
    acked = PagerClient().ack(target, by=by)
    for page in acked:
        took = page["acked_at"] - page["paged_at"]
        earlier = not page.get("newly_acked", True)
        ok(f"{page['alertname']} ({page['fingerprint']}) {'was already ' if earlier else ''}acknowledged at "
           f"{clock(page['acked_at'])}, {ago(took)} after the page")


@cli.command("heartbeat")
@click.option("--send", is_flag=True, help="Record a heartbeat yourself first (to test the pager).")
def pager_heartbeat(send: bool) -> None:
    """Is Alertmanager's Watchdog heartbeat arriving? Exit 1 when it is not.

    The Watchdog alert always fires; if it stops reaching the pager, the alerting pipeline (Prometheus,
    its rules, Alertmanager) is broken and no other alert would reach you either.
    """
    client = PagerClient()
    status = client.send_heartbeat() if send else client.heartbeat()
    if status["last_seen"] is None:
        raise LabError("no Watchdog heartbeat received yet; Alertmanager sends it within a minute of starting. "
                       "Check the pipeline with: aiops-lab status", ExitStatus.CHECK_FAILED)
    age = ago(status["age_seconds"])
    if not status["healthy"]:
        raise LabError(f"no Watchdog heartbeat for {age} (timeout {status['timeout_seconds']:g}s): Prometheus or "
                       "Alertmanager is not delivering alerts; check: aiops-lab status", ExitStatus.CHECK_FAILED)
    ok(f"Watchdog heartbeat {age} ago (last at {clock(status['last_seen'])}; timeout "
       f"{status['timeout_seconds']:g}s)")


def _report(now: float, new: list[Finding], cleared: list[Finding], bell: bool) -> None:
    stamp = clock(now)
    for finding in cleared:
        console.print(f"{stamp} [green]✓ cleared[/green]: {escape(finding.message)}", highlight=False)
    for finding in new:
        console.print(f"{stamp} [red]✗[/red] {escape(finding.message)}", highlight=False)
    if new and bell:
        sys.stdout.write("\a")  # the terminal bell: heard even when this window is behind another
        sys.stdout.flush()


@cli.command("watch")
@click.option("--interval", default="5s", show_default=True, help="How often to check (2s, 10s, 1m).")
@click.option("--for", "duration", default=None, help="Stop after this long (90s, 1h). Default: until Ctrl-C.")
@click.option("--once", is_flag=True, help="Check once and exit: 1 if anything is wrong (for scripts and cron).")
@click.option("--no-bell", is_flag=True, help="Do not ring the terminal bell on a new problem.")
def pager_watch(interval: str, duration: str | None, once: bool, no_bell: bool) -> None:
    """Watch the alert path from outside the pager; ring the terminal bell when it breaks.

    The pager cannot page about itself: killed, it records nothing and its Watchdog check dies with it.
    This asks the pager, Alertmanager and Prometheus directly, and shows the alerts about the path that
    Alertmanager holds but may not be able to deliver (PagerDown, AlertmanagerNotificationsFailing). A new
    problem prints one line and rings the bell; a cleared one prints one line. Keep it running in a spare
    terminal during drills.

    \b
    Examples:
      aiops-lab pager watch                  # until Ctrl-C, a check every 5s
      aiops-lab pager watch --once           # exit 1 when the path is broken
    """
    every = parse_seconds(interval, "--interval")
    if every <= 0:
        raise LabError(f"--interval must be more than 0 seconds, got {interval!r}")
    stop_at = None if duration is None else time.monotonic() + parse_seconds(duration, "--for")
    watch = PathWatch(PagerClient().base_url, component_url(ALERTMANAGER.name), component_url(PROMETHEUS.name))
    if once:
        findings = watch.check()
        _report(time.time(), findings, [], bell=False)
        if findings:
            raise CheckFailed(f"{len(findings)} problem(s) on the alert path; see: aiops-lab status")
        ok("alert path OK: pager, Alertmanager and Prometheus answer; no notification failed")
        return
    info(f"watching the alert path every {every:g}s (pager {watch.pager_url}, Alertmanager "
         f"{watch.alertmanager_url}, Prometheus {watch.prometheus_url}); Ctrl-C stops")
    known: dict[str, Finding] = {}
    first = True
    try:
        while stop_at is None or time.monotonic() < stop_at:
            started = time.monotonic()
            now = {f.key: f for f in watch.check()}
            _report(time.time(), [f for k, f in now.items() if k not in known],
                    [f for k, f in known.items() if k not in now], bell=not no_bell)
            if first and not now:
                ok(f"{clock(time.time())} alert path OK")
            first, known = False, now
            time.sleep(max(0.0, every - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
