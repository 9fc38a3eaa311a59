"""``aiops-lab drift``: an on-demand drift report from the prediction log, or the drift monitor itself.

``report`` reads the prediction log directly (no server needed) and runs the same code as the monitor,
so what it prints is what the gauges would say. Evidently is imported only when a report runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from aiops_core.errors import ExitStatus, LabError
from labs.cli.output import console, err_console, info, ok, table

_NEXT = "send traffic (aiops-lab load run) or widen the window (--since 1h, --rows N)"


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    from monitoring.drift.config import load
    from monitoring.drift.settings import DriftSettings

    settings = DriftSettings.from_env(**{k: v for k, v in overrides.items() if v is not None})
    return settings, load(settings.config_path)


def _fmt(x: float | None, spec: str = ".3f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def _flag(drifted: bool | None) -> str:
    return "-" if drifted is None else ("[bold red]DRIFT[/]" if drifted else "[green]no[/]")


@click.group()
def cli() -> None:
    """Drift reports (Evidently) and the drift monitor."""


@cli.command("report")
@click.option("--since", help="Window: predictions newer than this, e.g. 15m, 2h. [default: AIOPS_DRIFT_WINDOW_S]")
@click.option("--rows", type=click.IntRange(min=1), help="Window: the newest N predictions instead.")
@click.option("--min-rows", type=click.IntRange(min=10), help="Rows needed for a verdict. [default: "
              "AIOPS_DRIFT_MIN_ROWS, 500]")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Evidently HTML page here. Default: the reports dir (the monitor's /reports).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output: the run's summary as JSON.")
def drift_report(since: str | None, rows: int | None, min_rows: int | None, out: Path | None,
                 as_json: bool) -> None:
    """Compare recent traffic with the active model's training sample and print the verdicts.

    \b
    Examples:
      aiops-lab drift report
      aiops-lab drift report --since 15m
      aiops-lab drift report --rows 2000 --out /tmp/drift.html
      aiops-lab drift report --json | jq '.features[] | select(.drifted) | .name'
    """
    if since is not None and rows is not None:
        raise LabError("use --since or --rows, not both")
    window_s = window_rows = None
    if since is not None:
        from aiops_core.durations import parse_seconds

        window_s, window_rows = parse_seconds(since, "--since"), 0
    elif rows is not None:
        window_s, window_rows = 0.0, rows
    settings, config = _settings(min_rows=min_rows)
    if not settings.prediction_log.is_file():
        raise LabError(f"no prediction log at {settings.prediction_log}; start the lab (aiops-lab up) and send "
                       "traffic (aiops-lab load run)", ExitStatus.NOT_RUNNING)
    if out is not None and not out.parent.is_dir():
        raise LabError(f"--out: directory {out.parent} does not exist; create it or choose another path")

    from monitoring.drift.evaluate import load_evidently
    from monitoring.drift.monitor import Monitor

    monitor = Monitor(settings, config)
    monitor.references.active_version()  # NoActiveModel: exit 5
    progress = err_console if as_json else console  # stdout carries only the JSON document
    with progress.status("loading Evidently..."):
        load_evidently()
    with progress.status("reading the prediction log and running Evidently..."):
        summary = monitor.run_once(window_s=window_s, window_rows=window_rows, save=out is None, html_out=out)
    if summary.outcome == "failure":
        raise LabError(f"drift report failed: {summary.reason}", ExitStatus.CHECK_FAILED)
    if summary.outcome == "insufficient_data":
        raise LabError(f"insufficient data: {summary.reason}; {_NEXT}", ExitStatus.CONFLICT)
    html = out or (settings.reports_dir / str(summary.html_file))
    if as_json:
        click.echo(json.dumps({**summary.model_dump(mode="json"), "html_path": str(html)}, indent=2))
    else:
        _print(summary, html)


def _print(summary, html: Path) -> None:  # type: ignore[no-untyped-def]
    """The verdicts in words and two narrow tables (drift, then input quality) that fit 80 columns."""
    p, d = summary.prediction, summary.dataset
    rows = [[f.name, f.method, f"{f.threshold:g}", _fmt(f.score), _flag(f.drifted)] for f in summary.features]
    rows.append(["(prediction)", p.method, f"{p.threshold:g}", _fmt(p.score), _flag(p.drifted)])
    table(f"drift: {summary.window.rows} rows served by {summary.model_version} vs {summary.reference_rows} "
          "reference rows", ["feature", "method", "threshold", "score", "drifted"], rows)
    for f in summary.features:
        if f.note:
            info(f"{f.name}: not tested, {f.note}")
    verdict = "[bold red]DATASET DRIFT[/]" if d.drifted else "no dataset drift" if d.drifted is False else "no verdict"
    drifted = [f.name for f in summary.features if f.drifted]
    console.print(f"{verdict}: {_fmt(d.share, '.0%')} of {d.tested_features} tested features drifted "
                  f"(threshold {d.threshold:.0%})" + (f": {', '.join(drifted)}" if drifted else ""), highlight=False)
    table("inputs: share of rows", ["feature", "missing", "zero", "out of training range"],
          [[f.name, _fmt(f.missing_share, ".1%"), _fmt(f.zero_share, ".1%"), _fmt(f.out_of_range_share, ".1%")]
           for f in summary.features])
    q = summary.quality
    if q is not None and q.mae_seconds is not None:
        info(f"quality on {q.rows} predictions with feedback: MAE {q.mae_seconds / 60:.2f} min, RMSE "
             f"{q.rmse_seconds / 60:.2f} min, mean error {q.mean_error_seconds / 60:+.2f} min "
             f"(training holdout MAE {_fmt((q.training_mae_seconds or math.nan) / 60, '.2f')} min)")
    else:
        info(f"quality: {q.rows if q else 0} predictions with feedback in the window, too few for MAE")
    if summary.window.other_versions:
        others = ", ".join(f"{n} rows served by {v}" for v, n in sorted(summary.window.other_versions.items()))
        info(f"not compared (not the active version): {others}")
    ok(f"Evidently report: {html}")


@cli.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [default: AIOPS_DRIFT_MONITOR_PORT or 8001].")
def drift_serve(port: int | None) -> None:
    """Run the drift monitor in the foreground: /metrics, /reports, POST /run; a run every interval."""
    from monitoring.drift.__main__ import serve

    settings, config = _settings(port=port)
    info(f"drift monitor on http://{settings.host}:{settings.port}/reports (a run every {settings.interval_s:g}s, "
         f"window {settings.window_s:g}s / {settings.window_rows} rows)")
    serve(settings, config)
