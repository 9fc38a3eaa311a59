"""``aiops-lab pager``: the pages Alertmanager delivered, acknowledgements, and the Watchdog heartbeat.

Acknowledging a page is how a learner says "I am on it": the drill engine scores time-to-detect from the
page's first notification to its acknowledgement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from aiops_core.durations import parse_seconds
from aiops_core.errors import ExitStatus, LabError
from labs.cli.output import info, ok, table
from labs.pager.client import PagerClient


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    moment = datetime.fromtimestamp(ts).astimezone()
    same_day = moment.date() == datetime.now().astimezone().date()
    return moment.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S")


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def _status(page: dict[str, Any]) -> str:
    return page["status"] + (", acked" if page.get("acked_at") else "")


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
    pages = PagerClient().pages(since_seconds=seconds, status=status, alertname=alertname, limit=limit)
    if not pages:
        info(f"no {status + ' ' if status else ''}pages in the last {since}")
        return
    rows = [[_when(p["paged_at"]), p["alertname"], p["severity"], _status(p), p["summary"], p["runbook_url"]]
            for p in pages]
    table(f"pages in the last {since}", ["time", "alert", "severity", "status", "summary", "runbook"], rows)


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
           f"{_when(page['acked_at'])}, {_ago(took)} after the page")


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
    age = _ago(status["age_seconds"])
    if not status["healthy"]:
        raise LabError(f"no Watchdog heartbeat for {age} (timeout {status['timeout_seconds']:g}s): Prometheus or "
                       "Alertmanager is not delivering alerts; check: aiops-lab status", ExitStatus.CHECK_FAILED)
    ok(f"Watchdog heartbeat {age} ago (last at {_when(status['last_seen'])}; timeout "
       f"{status['timeout_seconds']:g}s)")
