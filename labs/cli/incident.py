"""``aiops-lab incident``: a responder's side of a game day -- join, note, status, handoff, timeline.

Every command shows the IC's prompt when a status update is overdue (the server computes it, so every
terminal of the IC sees the same thing). The GM's side is ``aiops-lab gameday``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from aiops_core.errors import LabError
from labs.cli.output import clock, console, err_console, info, ok
from labs.gameday.client import TOKEN_ENV, URL_ENV, GamedayClient, local_url, save_credentials
from labs.gameday.model import PHASES, ROLE_TITLES, ROLES


def _show_prompt(answer: dict[str, Any]) -> None:
    if answer.get("prompt"):
        err_console.print(f"[bold yellow]IC:[/bold yellow] {escape(answer['prompt'])}", highlight=False)


def _me() -> GamedayClient:
    return GamedayClient.for_("responder")


@click.group()
def cli() -> None:
    """A game day's incident, for responders: join with your role, write on the shared timeline.

    \b
    Examples:
      aiops-lab incident join --role ops --token gd_... --url http://127.0.0.1:PORT
      aiops-lab incident note "error ratio 60% on /predict since 14:02"
      aiops-lab incident status "mitigating: reverting the 14:01 config change; next update 14:15"
      aiops-lab incident handoff --to carol
      aiops-lab incident timeline
    """


@cli.command("join")
@click.option("--role", type=click.Choice(ROLES), required=True, help="The role the GM invited you for.")
@click.option("--token", help=f"The token from the GM's invite line (or set {TOKEN_ENV}).")
@click.option("--url", help=f"The game day server (default: the one this lab serves; or set {URL_ENV}).")
def incident_join(role: str, token: str | None, url: str | None) -> None:
    """Join the game day with your token; it is saved for your next commands (mode 0600)."""
    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        raise LabError(f"--token: pass the token from the GM's invite line (or set {TOKEN_ENV})")
    url = url or os.environ.get(URL_ENV) or local_url()
    if not url:
        raise LabError("--url: no game day server found on this lab; pass the URL from the GM's invite line")
    client = GamedayClient(url, token)
    me = client.call("GET", "/whoami")
    if me["scope"] != "responder":
        raise LabError("--token: that is the game master's token; responders join with the token of their invite")
    if me["role"] != role:
        raise LabError(f"--role: this token is {me['name']}'s, invited as {me['role']}; rerun with --role {me['role']}")
    answer = client.call("POST", "/join")
    path = save_credentials("responder", url, token)
    ok(f"joined as {me['name']} ({ROLE_TITLES[role]}); token saved to {path}")
    info("Next: aiops-lab incident timeline | aiops-lab incident note \"...\"" +
         (" | aiops-lab incident status \"...\"" if role == "ic" else ""))
    _show_prompt(answer)


@cli.command("note")
@click.argument("text")
@click.option("--phase", type=click.Choice(PHASES), help="Which phase it belongs to (default: by its time).")
def incident_note(text: str, phase: str | None) -> None:
    """Add a note to the shared timeline (what you saw, what you tried)."""
    if not text.strip():
        raise LabError('text: a note needs some text: aiops-lab incident note "what you saw"')
    answer = _me().call("POST", "/notes", json={"text": text, "phase": phase})
    ok(f"noted at {clock(answer['entry']['at'])}")
    _show_prompt(answer)


@cli.command("status")
@click.argument("text")
def incident_status(text: str) -> None:
    """IC only: post a status update (what we know, what we do, when the next update comes)."""
    if not text.strip():
        raise LabError('text: a status update needs some text: aiops-lab incident status "what we know ..."')
    answer = _me().call("POST", "/status", json={"text": text})
    ok(f"status update posted at {clock(answer['entry']['at'])}")
    _show_prompt(answer)


@cli.command("handoff")
@click.option("--to", "to", required=True, metavar="NAME", help="The responder who becomes incident commander.")
def incident_handoff(to: str) -> None:
    """IC only: hand incident command to another responder (you take their role)."""
    answer = _me().call("POST", "/handoff", json={"to": to})
    ok(answer["entry"]["text"])
    _show_prompt(answer)


@cli.command("timeline")
@click.option("--json", "as_json", is_flag=True, help="The entries as JSON (for scripts).")
def incident_timeline(as_json: bool) -> None:
    """The shared timeline: time, author, role, kind, text (private hints: only yours)."""
    show_timeline(_me().call("GET", "/timeline"), as_json)


def show_timeline(answer: dict[str, Any], as_json: bool) -> None:
    """Print a ``GET /timeline`` answer (the GM's ``gameday timeline`` too, secrets included there)."""
    if as_json:
        click.echo(json.dumps(answer["entries"], indent=2))
    else:
        t = Table(header_style="bold")
        for col in ("time", "who", "role", "kind", "text"):
            t.add_column(col, overflow="fold")
        for e in answer["entries"]:
            text = e.get("secret") or e["text"]
            shown = (f"(to {e['to']}) " if e["to"] else "") + text
            t.add_row(*(Text(str(v)) for v in (clock(e["at"]), e["author"], e["role"], e["kind"], shown)))
        console.print(t)
        if answer["ended"]:
            info("the game day has ended; the GM has the debrief")
    _show_prompt(answer)
