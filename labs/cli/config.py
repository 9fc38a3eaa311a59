"""``aiops-lab config``: read and change the model service's runtime flags (and see who changed what)."""

from __future__ import annotations

import contextlib
import json
from typing import Any, Literal, get_args, get_origin

import click
from pydantic import ValidationError

from aiops_core.errors import LabError
from labs.cli.output import info, ok, table
from model_service.client import ServiceClient
from model_service.runtime_config import FLAG_NAMES, RuntimeConfig, accepted_values, flag_type

_NONE_WORDS = ("null", "none")


def parse_value(flag: str, text: str) -> Any:
    """VALUE read as FLAG's type, as ``config set --help`` says; refused here (naming what FLAG accepts)
    before anything is sent. JSON parsing used to turn ``traffic_feed null`` into None, which that flag
    does not take: its value is the *word* null."""
    if flag not in FLAG_NAMES:
        raise LabError(f"unknown flag {flag!r}; known flags: {', '.join(FLAG_NAMES)}")
    kind, optional = flag_type(flag)
    word = text.strip()
    if len(word) >= 2 and word[0] == word[-1] == '"':  # a JSON string ('"zero"') is the same word
        with contextlib.suppress(json.JSONDecodeError):
            word = str(json.loads(word))
    words = get_args(kind) if get_origin(kind) is Literal else ()
    value = None if optional and word.lower() in _NONE_WORDS and word not in words else word
    try:  # numbers and booleans from their text, the flag's bounds: the service's own model decides
        return getattr(RuntimeConfig.model_validate({flag: value}), flag)
    except ValidationError:
        raise LabError(f"{flag}: {text!r} is not accepted; use {accepted_values(flag)}") from None


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
            raise LabError(f"unknown flag {flag!r}; known flags: {', '.join(flags)}")
        info(json.dumps(flags[flag]))
        return
    table(None, ["flag", "value", "what it does"],
          [[k, json.dumps(v), _what_it_does(k, docs)] for k, v in flags.items()])


def _what_it_does(flag: str, docs: dict[str, str]) -> str:
    accepts = f" Accepts {accepted_values(flag)}." if flag in FLAG_NAMES else ""  # a newer service's own flag
    return docs.get(flag, "") + accepts


@cli.command("set")
@click.argument("flag")
@click.argument("value")
@click.option("--reason", default="", help="Why (recorded in the config history).")
def config_set(flag: str, value: str, reason: str) -> None:
    """Set FLAG to VALUE, read as the flag's type (flags and values: aiops-lab config get).

    VALUE is a number, true or false, or one of the flag's words, bare (no quotes needed); null or none
    empties a flag that may have no value. A value the flag does not take is refused, naming the ones it
    does, and nothing changes.

    \b
    Examples:
      aiops-lab config set error_ratio 0.2 --reason "drill: error burst"
      aiops-lab config set explanations_enabled false --reason "revert: latency regression"
      aiops-lab config set traffic_feed null     # the word: a feed that sends no readings
    """
    parsed = parse_value(flag, value)
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
