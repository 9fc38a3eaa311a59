"""``aiops-lab service``: run the model service in the foreground, or restart it inside a running lab."""

from __future__ import annotations

import click

from aiops_core.errors import ExitStatus, LabError
from aiops_core.runstate import RunState
from labs.cli.output import ok
from labs.runtime.base import get_runtime

_COMPONENTS = ("model-service", "drift-monitor", "pager", "traffic-feed", "prometheus", "alertmanager")


@click.group()
def cli() -> None:
    """Run or restart lab services."""


@cli.command("run")
def service_run() -> None:
    """Run the model service in the foreground (settings from AIOPS_* environment variables)."""
    from model_service.__main__ import main

    main()


@cli.command("restart")
@click.argument("component", default="model-service", type=click.Choice(_COMPONENTS))
def service_restart(component: str) -> None:
    """Restart COMPONENT (default: model-service) and wait until it is healthy.

    Acts on the native lab, or on the compose project with --target compose.
    """
    runtime = get_runtime()
    if runtime.name == "native":
        state = RunState.load()
        if state is None or not state.alive():
            raise LabError("the lab is not running; start it with: aiops-lab up", ExitStatus.NOT_RUNNING)
    runtime.restart(component)  # RuntimeError_ (exit 1) says what failed
    ok(f"{component} restarted and healthy ({runtime.name})")
