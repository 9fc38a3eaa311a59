"""Shared terminal output: tables and key/value blocks with rich (one look for every noun)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aiops_core.durations import spoken

console = Console()
err_console = Console(stderr=True)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    t = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        t.add_column(c)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    console.print(t)


def ok(message: str) -> None:
    console.print(f"[green]✓[/green] {message}")


def info(message: str) -> None:
    console.print(message, highlight=False)


def clock(ts: float | None) -> str:
    """A moment in local time: ``13:20:01`` today, ``2026-12-01 13:20:01`` on another day."""
    if ts is None:
        return ""
    moment = datetime.fromtimestamp(ts).astimezone()
    same_day = moment.date() == datetime.now().astimezone().date()
    return moment.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S")


ago = spoken  # one way to say a duration, shared with the pager's inbox (aiops_core.durations)


# Labels an alert row leaves out: alertname and severity have columns of their own, job and instance name the
# scrape target (one per component in this lab). The rest tell alerts of one name apart: the burn-rate windows
# of the SLO alerts (long_window/short_window), the feature kind, the model version.
_ROW_HIDDEN_LABELS = frozenset({"alertname", "severity", "job", "instance"})


def _shown_labels(labels: Mapping[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(labels.items()) if k not in _ROW_HIDDEN_LABELS]


def alert_cell(labels: Mapping[str, str]) -> str:
    """An alert's name (bold), then the labels that distinguish it (dim): rich markup for a table cell."""
    shown = " ".join(_shown_labels(labels))
    return f"[bold]{escape(labels.get('alertname', ''))}[/bold]" + (f"\n[dim]{escape(shown)}[/dim]" if shown else "")


def alert_column(t: Table, alerts: Iterable[Mapping[str, str]]) -> None:
    """The alert column, exactly as wide as its longest name or label: rich squeezes the other columns
    instead, so an 80-column terminal never cuts a name to "ModelServic..." (a minimum width does not hold
    when rich collapses a table; a fixed width does)."""
    words = [w for labels in alerts for w in (labels.get("alertname", ""), *_shown_labels(labels))]
    t.add_column("alert", width=max(max(map(len, words), default=0), len("alert")), overflow="fold")
