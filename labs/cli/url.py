"""``aiops-lab url COMPONENT``: where a component of the running lab listens, for scripts and runbooks.

``aiops-lab up`` may give a component another port than its default (``AIOPS_<NAME>_PORT``, or a port that
was taken), so a runbook that hard-codes ``127.0.0.1:8000`` reaches the wrong process or none (issue 14,
item 9e). Runbooks write ``curl "$(aiops-lab url model-service)/readyz"`` instead: one self-contained line
that works pasted on its own, on any lab. The answer is ``aiops_core.runstate.component_url``'s, the same
lookup every lab client makes: ``AIOPS_<NAME>_URL``, else the running lab's record, else the configured port.

With no running lab recorded (native target, no ``AIOPS_<NAME>_URL``) the answer is only the configured
default: it is still printed, exit 0, with a warning on stderr. Why not fail (exit 3): the configured port
is exactly where the compose stack publishes the component, and a compose user who has not said
``--target compose`` (``AIOPS_TARGET``) gets the right URL from it; a failing ``$(aiops-lab url ...)`` would
turn a working curl line into a confusing "no host" error. The warning says the URL is unconfirmed and how to
make it so. With ``--target compose`` the published port is the answer, not a fallback: no warning.
"""

from __future__ import annotations

import click

from aiops_core import paths
from aiops_core.errors import NotRunning
from aiops_core.runstate import admin_token, locate, run_file
from aiops_core.topology import BY_NAME


@click.command("url")
@click.argument("component", type=click.Choice(list(BY_NAME)))
def url(component: str) -> None:
    """Print the base URL of COMPONENT in the running lab (no trailing slash).

    \b
    Examples:
      aiops-lab url model-service                      # http://127.0.0.1:8000 on a default lab
      curl -fsS "$(aiops-lab url prometheus)/-/ready"
    """
    found, source = locate(component)
    if source == "default":
        click.echo(f"warning: no running lab recorded in {run_file()}; this is the configured default "
                   f"({BY_NAME[component].port_env} or the default port). Start the lab (aiops-lab up -d), or for "
                   f"the compose lab: aiops-lab --target compose url {component}", err=True)
    click.echo(found)


@click.command("token")
def token() -> None:
    """Print the running lab's token, for curl lines that call an admin or write endpoint.

    The token is in ``<state dir>/admin-token`` (``.lab/`` unless ``AIOPS_STATE_DIR`` moved it) or in
    ``AIOPS_ADMIN_TOKEN``; a runbook that reads ``.lab/admin-token`` breaks on a moved state dir, this does not.

    \b
    Examples:
      curl -fsS -H "Authorization: Bearer $(aiops-lab token)" "$(aiops-lab url model-service)/admin/config"
    """
    found = admin_token()
    if not found:
        raise NotRunning(f"no lab token at {paths.admin_token_path()}: start the lab with 'aiops-lab up' "
                         "(it writes the token) or set AIOPS_ADMIN_TOKEN")
    click.echo(found)
