"""``aiops-lab dashboard``: the Grafana dashboards drawn without Grafana, as one HTML page each.

No Grafana server installs here (see grafana/README.md), yet the dashboards are what a learner is told to
look at. ``render`` reads the same ``grafana/dashboards/*.json``, runs every panel's PromQL as a range query
against the lab's Prometheus and writes a page that opens offline. matplotlib is imported only when it runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from aiops_core.durations import parse_seconds
from aiops_core.errors import LabError
from aiops_core.prometheus import Prometheus
from aiops_core.runstate import component_url
from aiops_core.topology import PAGER
from labs.cli.output import console, info, ok, table


@click.group()
def cli() -> None:
    """Grafana dashboards rendered to HTML from the lab's Prometheus (no Grafana needed)."""


@cli.command("list")
def dashboard_list() -> None:
    """The dashboards there are to render (grafana/dashboards/*.json)."""
    import json

    from labs.dashboards.render import dashboards_dir

    rows = []
    for path in sorted(dashboards_dir().glob("*.json")):
        model = json.loads(path.read_text())
        rows.append([path.stem, model.get("uid", ""), model.get("title", ""), len(model.get("panels") or [])])
    table(None, ["name", "uid", "title", "panels"], rows)


@cli.command("render")
@click.argument("name")
@click.option("--since", default="30m", show_default=True,
              help="How far back the panels reach (a duration: 15m, 2h, 1h30m).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for NAME.html. [default: <reports dir>/dashboards]")
def dashboard_render(name: str, since: str, out: Path | None) -> None:
    """Draw dashboard NAME into a self-contained HTML page (NAME: service, model, incident, or a uid).

    Every panel's query runs as a range query over --since against the running lab's Prometheus (or
    AIOPS_PROMETHEUS_URL), with Grafana's variables expanded as Grafana would ("All" for $route and
    $model_version). A panel with nothing to draw says why on the page. The page is a snapshot: run the
    command again to refresh it.

    \b
    Examples:
      aiops-lab dashboard render service
      aiops-lab dashboard render incident --since 2h --out /tmp/dash
      aiops-lab dashboard list

    Exit status: 0 written, 2 unknown NAME or bad option, 3 Prometheus does not answer.
    """
    from labs.dashboards.render import load, output_dir, render

    since_s = parse_seconds(since, "--since")
    if since_s < 60:
        raise LabError(f"--since {since!r} is too short to draw; use at least 1m (e.g. --since 15m)")
    load(name)  # an unknown NAME fails before anything is queried
    prom = Prometheus()
    with console.status("querying Prometheus...") as status:
        result = render(name, prom, since_s, out or output_dir(), progress=status.update)
    drawn = sum(1 for p in result.panels if p.series)
    ok(f"{result.title}: {drawn} of {len(result.panels)} panels drawn from {prom.base_url}")
    for title, reason in result.empty.items():
        info(f"  empty: {title}: {reason}")
    ok(f"open it: {result.html.resolve().as_uri()}")
    if out is None:  # the pager serves the default folder's pages, for a browser that cannot open files
        info(f"  or in the pager: {component_url(PAGER.name)}/dashboards/{name}")
