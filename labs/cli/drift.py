"""``aiops-lab drift``: an on-demand drift report from the prediction log, or the drift monitor itself.

``report`` reads the prediction log directly (no server needed) and runs the same code as the monitor,
so what it prints is what the gauges would say. Evidently is imported only when a report runs.
"""

from __future__ import annotations

import math
from pathlib import Path

import click

from aiops_core.errors import ExitStatus, LabError
from labs.cli.output import console, info, ok, table

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
def drift_report(since: str | None, rows: int | None, min_rows: int | None, out: Path | None) -> None:
    """Compare recent traffic with the active model's training sample and print the verdicts.

    \b
    Examples:
      aiops-lab drift report
      aiops-lab drift report --since 15m
      aiops-lab drift report --rows 2000 --out /tmp/drift.html
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
    with console.status("loading Evidently..."):
        load_evidently()
    with console.status("reading the prediction log and running Evidently..."):
        summary = monitor.run_once(window_s=window_s, window_rows=window_rows, save=out is None, html_out=out)
    if summary.outcome == "failure":
        raise LabError(f"drift report failed: {summary.reason}", ExitStatus.CHECK_FAILED)
    if summary.outcome == "insufficient_data":
        raise LabError(f"insufficient data: {summary.reason}; {_NEXT}", ExitStatus.CONFLICT)
    _print(summary, out or (settings.reports_dir / str(summary.html_file)))


def _print(summary, html: Path) -> None:  # type: ignore[no-untyped-def]
    rows = [[f.name, f.method, f"{f.threshold:g}", _fmt(f.score), _flag(f.drifted), _fmt(f.missing_share, ".1%"),
             _fmt(f.zero_share, ".1%"), _fmt(f.out_of_range_share, ".1%")] for f in summary.features]
    p = summary.prediction
    rows.append(["(prediction)", p.method, f"{p.threshold:g}", _fmt(p.score), _flag(p.drifted), "", "", ""])
    table(f"{summary.window.rows} rows served by {summary.model_version} vs {summary.reference_rows} reference rows",
          ["feature", "method", "threshold", "score", "drifted", "missing", "zero", "out of range"], rows)
    for f in summary.features:
        if f.note:
            info(f"{f.name}: not tested, {f.note}")
    d = summary.dataset
    verdict = "[bold red]DATASET DRIFT[/]" if d.drifted else "no dataset drift" if d.drifted is False else "no verdict"
    console.print(f"{verdict}: {_fmt(d.share, '.0%')} of {d.tested_features} tested features drifted "
                  f"(threshold {d.threshold:.0%})")
    q = summary.quality
    if q is not None and q.mae_seconds is not None:
        info(f"quality on {q.rows} predictions with feedback: MAE {q.mae_seconds / 60:.2f} min, RMSE "
             f"{q.rmse_seconds / 60:.2f} min, mean error {q.mean_error_seconds / 60:+.2f} min "
             f"(training holdout MAE {_fmt((q.training_mae_seconds or math.nan) / 60, '.2f')} min)")
    else:
        info(f"quality: {q.rows if q else 0} predictions with feedback in the window, too few for MAE")
    if summary.window.other_versions:
        info(f"not compared (served by other versions): {summary.window.other_versions}")
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
