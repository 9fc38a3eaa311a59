"""``aiops-lab gameday``: the game master's side of a game day -- start, invite, hint, inject, status, end.

The game is served by ``python -m labs.gameday`` (see ``labs/gameday/__init__.py`` for why a server); these
commands only parse, call it with the GM's token and print. Responders use ``aiops-lab incident``.
"""

from __future__ import annotations

import shlex
import time

import click
from rich.markup import escape

from aiops_core.durations import parse_seconds, spoken
from aiops_core.errors import LabError
from aiops_core.http import component_healthy
from aiops_core.runstate import component_url
from labs.cli.output import clock, console, info, ok, table
from labs.gameday import launcher
from labs.gameday.client import GamedayClient, save_credentials
from labs.gameday.model import ROLE_TITLES, ROLES

DEFAULT_STATUS_EVERY = "5m"


def _gm() -> GamedayClient:
    return GamedayClient.for_("gm")


def _seconds(value: str, option: str) -> float:
    try:
        return parse_seconds(value, option)
    except LabError as exc:
        raise click.BadParameter(exc.message, param_hint=option) from None


@click.group()
def cli() -> None:
    """Game day: a game master runs an incident for a team (IC, ops, scribe) on one shared timeline.

    \b
    Examples (the GM's terminal; docs/gameday.md walks through a whole game):
      aiops-lab gameday start --gm --random --at 2m
      aiops-lab gameday invite --role ic --name alice
      aiops-lab gameday status
      aiops-lab gameday hint --to bob "look at what changed at runtime"
      aiops-lab gameday end
    """


@cli.command("start")
@click.option("--gm", "as_gm", is_flag=True, help="You are the game master (required: the GM starts the game).")
@click.option("--drill", "drill_id", metavar="ID", help="The drill to play (aiops-lab drill list).")
@click.option("--random", "pick_random", is_flag=True, help="Draw a drill at random; only the GM sees which.")
@click.option("--at", "at", default="0", show_default=True, metavar="DELAY",
              help="When the fault starts, from now (e.g. 90s, 2m): time for the team to join first.")
@click.option("--status-every", default=DEFAULT_STATUS_EVERY, show_default=True, metavar="DURATION",
              help="How often the IC owes a status update; the IC is prompted when one is overdue.")
def gameday_start(as_gm: bool, drill_id: str | None, pick_random: bool, at: str, status_every: str) -> None:
    """Start a game day: pick the drill, schedule its fault, print the GM token and the invite command."""
    from labs.drills import engine  # the catalogue and the user's drills (AIOPS_DRILLS_PATH) alike

    if not as_gm:
        raise LabError("only the game master starts a game day: aiops-lab gameday start --gm --drill ID "
                       "(responders join with: aiops-lab incident join --role ROLE --token T)")
    if bool(drill_id) == pick_random:
        raise LabError("say which drill: --drill ID (see aiops-lab drill list) or --random, not both or neither")
    delay, every = _seconds(at, "--at"), _seconds(status_every, "--status-every")
    if every <= 0:
        raise click.BadParameter("must be longer than 0s", param_hint="--status-every")
    drill_id = engine.random_drill_id() if pick_random else str(drill_id)
    try:
        drill = engine.drill_for(drill_id)
    except LabError as exc:
        raise LabError(f"--drill: {exc.message}") from None
    game, token = launcher.create(drill_id, hidden=True, delay_s=delay, status_every_s=every)
    url = launcher.spawn()
    path = save_credentials("gm", url, token)
    ok(f"game day {game.game_id} is served at {url}")
    info(f"the incident: {escape(drill.title)} \\[{drill_id}] -- only you see this; the fault starts at "
         f"{clock(game.fault_at)} ({spoken(delay)} from now)")
    info(f"your GM token (saved to {path}, mode 0600):")
    click.echo(f"  {token}")
    info(f"IC status updates are due every {spoken(every)}.")
    if not component_healthy("model-service", component_url("model-service") + "/healthz"):
        info("[yellow]note:[/yellow] the lab does not answer: start it (aiops-lab up -d) before the fault is due, "
             "or the fault cannot start (aiops-lab gameday status will say so)")
    info("Next, one per responder:  aiops-lab gameday invite --role ic|ops|scribe --name NAME")


@cli.command("resume")
def gameday_resume() -> None:
    """Serve an unfinished game again (after a reboot or a killed server): nothing is lost."""
    url = launcher.spawn()
    ok(f"game day served at {url}; tokens, timeline and the scheduled fault are as they were")


@cli.command("invite")
@click.option("--role", type=click.Choice(ROLES), required=True, help="ic (incident commander), ops, scribe.")
@click.option("--name", required=True, help="The responder's name, as it will show on the timeline.")
def gameday_invite(role: str, name: str) -> None:
    """Mint a responder's token and print the line they run to join."""
    gm = _gm()
    got = gm.call("POST", "/gm/invite", json={"role": role, "name": name})
    ok(f"invited {got['name']} as {ROLE_TITLES[role]}; hand them this line (it is their password):")
    # click.echo, not rich: a line to copy must never be wrapped
    click.echo(f"  aiops-lab incident join --role {role} --token {got['token']} --url {gm.base_url}")
    click.echo("  (several people on one Unix account: each exports their own instead --\n"
               f"   export AIOPS_GAMEDAY_TOKEN={shlex.quote(got['token'])} AIOPS_GAMEDAY_URL={gm.base_url})")


@cli.command("hint")
@click.option("--to", "to", required=True, metavar="NAME", help="The one responder who sees the hint.")
@click.argument("text")
def gameday_hint(to: str, text: str) -> None:
    """Whisper a hint to one responder: it is on their timeline only (and in the debrief)."""
    _gm().call("POST", "/gm/hint", json={"to": to, "text": text})
    ok(f"hint sent to {to}")


@cli.command("inject")
@click.option("--drill", "drill_id", required=True, metavar="ID", help="The drill whose faults to add now.")
def gameday_inject(drill_id: str) -> None:
    """Inject a second fault into the running incident (rolled back with the rest at the end)."""
    with console.status(f"injecting the faults of {drill_id}..."):
        got = _gm().call("POST", "/gm/inject", json={"drill": drill_id}, slow=True)
    ok(got["injected"])


@cli.command("status")
def gameday_status() -> None:
    """The GM's view: the true cause, the live SLIs, the run, who joined, the time elapsed."""
    s = _gm().call("GET", "/gm/status")
    info(f"[bold]{escape(s['title'])}[/bold] \\[{s['drill']}]" + (f" + second faults: {', '.join(s['second_faults'])}"
                                                         if s["second_faults"] else ""))
    info(f"true cause: {escape(' '.join(s['true_cause'].split()))}")
    run = s["run"]
    due = s["fault_at"] - time.time()
    when = f"fault due in {spoken(due)}" if due > 0 else f"fault started {spoken(s['since_fault_s'])} ago"
    info(f"elapsed {spoken(s['elapsed_s'])}; {when}; drill run: {run['status']}"
         + (f" (mitigated at {clock(run['passed_at'])})" if run.get("passed_at") else ""))
    if s["start_error"]:
        info(f"[red]the fault could not start:[/red] {escape(s['start_error'])}")
    slis = s["slis"]
    if "error" in slis:
        info(f"live SLIs unavailable: {escape(slis['error'])}")
    else:
        table("live SLIs (Prometheus)", ["SLI", "series", "value"],
              [(name, labels, f"{value:.4g}") for name, series in slis.items() for labels, value in series.items()]
              or [("-", "no data yet", "")])
    table("participants", ["name", "role", "joined"],
          [(p["name"], p["role"], "yes" if p["joined"] else "not yet") for p in s["participants"]])


@cli.command("timeline")
@click.option("--json", "as_json", is_flag=True, help="The entries as JSON (for scripts).")
def gameday_timeline(as_json: bool) -> None:
    """The GM's timeline: everything, every hint, and what each injection really changed."""
    from labs.cli.incident import show_timeline

    show_timeline(_gm().call("GET", "/timeline"), as_json)


@cli.command("end")
def gameday_end() -> None:
    """End the game: stop the drill(s) through the engine, write the debrief, score each role."""
    with console.status("ending the game: final check, rollback, debrief..."):
        got = _gm().call("POST", "/gm/end", slow=True)
    table("scores per role", ["role", "who", "score", "why"],
          [(ROLE_TITLES[s["role"]], s["who"], "-" if s["score"] is None else f"{s['score']}/100", s["why"])
           for s in got["scores"]])
    ok(f"debrief: {got['path']}")
