"""``aiops-lab config``: read and change the model service's runtime flags (and see who changed what)."""

from __future__ import annotations

import json

import click

from labs.cli.output import info, ok, table
from model_service.client import ServiceClient


@click.group()
def cli() -> None:
    """Read and change the service's runtime config flags."""


@cli.command("get")
@click.argument("flag", required=False)
def config_get(flag: str | None) -> None:
    """Show every flag with its description, or just FLAG's value."""
    data = ServiceClient().request("GET", "/admin/config", admin=True)
    flags, docs = data["flags"], data["descriptions"]
    if flag is not None:
        if flag not in flags:
            from aiops_core.errors import LabError

            raise LabError(f"unknown flag {flag!r}; known flags: {', '.join(flags)}")
        info(json.dumps(flags[flag]))
        return
    table(None, ["flag", "value", "what it does"], [[k, json.dumps(v), docs.get(k, "")] for k, v in flags.items()])


@cli.command("set")
@click.argument("flag")
@click.argument("value")
@click.option("--reason", default="", help="Why (recorded in the config history).")
def config_set(flag: str, value: str, reason: str) -> None:
    """Set FLAG to VALUE (JSON: 0.5, true, "zero"; bare words are strings).

    \b
    Examples:
      aiops-lab config set explanations_enabled false --reason "revert: latency regression"
      aiops-lab config set traffic_feed live
    """
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    entry = ServiceClient().request("PUT", f"/admin/config/{flag}", admin=True,
                                    json={"value": parsed, "reason": reason})
    ok(f"{flag}: {json.dumps(entry['old'])} -> {json.dumps(entry['new'])}")


@cli.command("history")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def config_history(limit: int) -> None:
    """Every flag change, newest last: time, actor, flag, old -> new, reason."""
    changes = ServiceClient().request("GET", "/admin/config/history", admin=True, params={"limit": limit})["changes"]
    table(None, ["time (UTC)", "actor", "flag", "old", "new", "reason"],
          [[c["time"][:19], c["actor"], c["flag"], json.dumps(c["old"]), json.dumps(c["new"]), c["reason"]]
           for c in changes])
