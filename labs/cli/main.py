"""``aiops-lab``: the lab's command line, ``aiops-lab <noun> <verb>`` like kubectl and docker.

Nouns live in their own modules (``labs/cli/<noun>.py``, each exposing ``cli``) and are imported only when
used, so ``aiops-lab --help`` stays fast and a noun's heavy imports (Evidently, Locust) cost nothing to
the others.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback

import click

from aiops_core import runstate
from aiops_core.errors import ExitStatus, LabError

# name -> (module, attribute, one-line help shown in the command list)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "up": ("labs.cli.lifecycle", "up", "Start the whole lab natively and wait until it is healthy."),
    "down": ("labs.cli.lifecycle", "down", "Stop a lab started with 'aiops-lab up'."),
    "status": ("labs.cli.lifecycle", "status", "Health of every component and the firing alerts."),
    "service": ("labs.cli.service", "cli", "Run or restart the model service."),
    "model": ("labs.cli.model", "cli", "Train, list, deploy and roll back model versions."),
    "config": ("labs.cli.config", "cli", "Read and change the service's runtime config flags."),
    "drift": ("labs.cli.drift", "cli", "Drift reports and the drift monitor."),
    "load": ("labs.cli.load", "cli", "Load tests with Locust: runs, UI, capacity."),
    "drill": ("labs.cli.drill", "cli", "Incident drills: start, check, hint, stop, report."),
    "lab": ("labs.cli.curriculum", "cli", "Guided exercises: list, check, reset."),
    "pager": ("labs.cli.pager", "cli", "The lab pager: pages received from Alertmanager."),
    "monitoring": ("labs.cli.monitoring", "cli", "Prometheus/Alertmanager config: re-render and reload."),
    "dashboard": ("labs.cli.dashboard", "cli", "Grafana dashboards drawn to HTML from Prometheus, no Grafana."),
    "url": ("labs.cli.url", "url", "Print where a component of the running lab listens (for curl)."),
    "token": ("labs.cli.url", "token", "Print the running lab's token (for curl lines that need it)."),
    "gameday": ("labs.cli.gameday", "cli", "Game day (GM): run an incident for a team with roles and a debrief."),
    "incident": ("labs.cli.incident", "cli", "Game day (responders): join, note, status, handoff, timeline."),
}


def _available(name: str) -> bool:
    module = COMMANDS[name][0]
    return importlib.util.find_spec(module) is not None


class CliError(click.ClickException):
    """A ``LabError`` as click shows it: ``error: <message>`` in red, and the error's exit status."""

    def __init__(self, error: LabError) -> None:
        super().__init__(error.message)
        self.exit_code = error.exit_code

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.secho(f"error: {self.format_message()}", err=True, fg="red")


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        """The one place a domain error becomes a CLI error (also under click's test runner)."""
        try:
            return super().invoke(ctx)
        except LabError as exc:
            raise CliError(exc) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _available(name):
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aiops-lab")
@click.option("--target", type=click.Choice(["native", "compose"]), envvar="AIOPS_TARGET", default="native",
              show_default=True, help="Which lab process-level faults and restarts act on: the native lab "
              "('aiops-lab up') or the docker compose project. Also AIOPS_TARGET.")
def cli(target: str) -> None:
    """aiops-lab: run a model in production, break it, and fix it with runbooks.

    \b
    Start here:
      aiops-lab up                 start the lab (model service, monitoring, pager)
      aiops-lab status             is everything healthy? which alerts fire?
      aiops-lab load run           send traffic
      aiops-lab drill list         pick an incident to practise
    """
    runstate.set_target(target)  # this process and the processes it starts act on that lab


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except LabError as exc:  # raised outside a command (e.g. while resolving one)
        CliError(exc).show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last resort: never a bare traceback for the user
        if os.environ.get("AIOPS_DEBUG"):
            traceback.print_exc()
        click.secho(f"internal error: {type(exc).__name__}: {exc} (rerun with AIOPS_DEBUG=1 for the "
                    "traceback and report it)", err=True, fg="red")
        sys.exit(int(ExitStatus.INTERNAL))
