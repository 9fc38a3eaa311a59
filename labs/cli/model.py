"""``aiops-lab model``: train, list, inspect, deploy, roll back and retrain model versions.

Deploy and rollback go through the running service's admin API (hot swap, recorded with the actor); when
the service is down they move the registry pointer on disk and the next start picks it up.
"""

from __future__ import annotations

import time

import click

from aiops_core import paths
from aiops_core.durations import parse_seconds
from aiops_core.errors import ExitStatus, LabError
from labs.cli.choices import LazyChoice, corruption_names, scenario_names
from labs.cli.output import console, info, ok, table
from model_service.registry import Registry

# Training (scikit-learn, pandas) and the service client (httpx) are imported by the commands that use them:
# 'model list' reads JSON cards and must answer at once (it took 2.5 s importing them, 6-8 s on a laptop).


def _registry() -> Registry:
    return Registry(paths.models_dir())


def _metrics_row(card) -> list[str]:  # type: ignore[no-untyped-def]
    g = card.metrics["golden"]
    return [f"{g.mae:.2f}", f"{g.rmse:.2f}", f"{g.r2:.3f}"]


def _activate(version: str, action: str) -> None:
    from model_service.client import ServiceClient

    client = ServiceClient()
    if client.reachable():
        if action == "rollback":
            result = client.request("POST", "/admin/model/rollback", admin=True)
        else:
            result = client.request("POST", "/admin/model/deploy", admin=True, json={"version": version})
        ok(f"{action}: {result['previous']} -> {result['active']} (live on {client.base_url})")
        return
    reg = _registry()
    target = reg.rollback_target() if action == "rollback" else version
    previous = reg.activate(target, actor="cli-offline", action=action)
    ok(f"{action}: {previous} -> {target} (service not running; it loads {target} when it starts)")


@click.group()
def cli() -> None:
    """Train, list, deploy and roll back model versions."""


@cli.command("train")
@click.option("--rows", default=20_000, show_default=True, type=click.IntRange(min=100, max=5_000_000),
              help="Training rows to generate.")
@click.option("--seed", default=7, show_default=True, type=int, help="Generator seed (same seed, same model).")
@click.option("--scenario", default="normal", show_default=True, type=LazyChoice(lambda: sorted(scenario_names())),
              help="Data scenario to train on.")
@click.option("--bad", "corruption", type=LazyChoice(corruption_names), default=None,
              help="Make a deliberately bad candidate (for the bad-deploy drill).")
@click.option("--deploy/--no-deploy", default=None,
              help="Activate the new version. Default: only when no model is active yet.")
def model_train(rows: int, seed: int, scenario: str, corruption: str | None, deploy: bool | None) -> None:
    """Train a LinearRegression, evaluate it, and register it as a new version.

    \b
    Examples:
      aiops-lab model train
      aiops-lab model train --bad labels-shuffled --no-deploy
    """
    from model_service import training

    started = time.monotonic()
    with console.status(f"training on {rows} generated rows ({scenario})..."):
        trained = training.train(rows=rows, seed=seed, scenario=scenario, corruption=corruption)
        reg = _registry()
        version = reg.register(trained)
    card = reg.card(version)
    h = card.metrics["holdout"]
    table(f"registered {version} in {time.monotonic() - started:.1f}s", ["split", "MAE (min)", "RMSE (min)", "R²"],
          [["holdout", f"{h.mae:.2f}", f"{h.rmse:.2f}", f"{h.r2:.3f}"], ["golden", *_metrics_row(card)]])
    if deploy or (deploy is None and reg.active() is None):
        _activate(version, "deploy")
    else:
        info(f"not deployed; to activate it: aiops-lab model deploy {version}")


@cli.command("retrain")
@click.option("--since", default="24h", show_default=True, help="Use labelled traffic newer than this (e.g. 30m, 6h).")
@click.option("--min-rows", default=300, show_default=True, type=click.IntRange(min=50),
              help="Refuse to train on fewer labelled rows.")
@click.option("--deploy/--no-deploy", default=True, show_default=True, help="Activate the new version.")
def model_retrain(since: str, min_rows: int, deploy: bool) -> None:
    """Retrain on recent live traffic that received feedback (the prediction log), then deploy.

    This is the lever for real covariate drift: the world moved, and the labels show where to.
    """
    from model_service import training

    seconds = parse_seconds(since, "--since")
    frame = training.labelled_log_frame(paths.prediction_log_path(), time.time() - seconds)
    if len(frame) < min_rows:
        raise LabError(f"only {len(frame)} labelled rows in the last {since} (need {min_rows}); send traffic "
                       "with feedback (aiops-lab load run) or widen --since", ExitStatus.CONFLICT)
    with console.status(f"retraining on {len(frame)} labelled rows from the prediction log..."):
        trained = training.train_on_frame(frame, seed=int(time.time()) % 100_000, data_scenario="live-feedback",
                                          description=f"retrained on {len(frame)} labelled live rows ({since})")
        reg = _registry()
        version = reg.register(trained)
    table(f"registered {version}", ["split", "MAE (min)", "RMSE (min)", "R²"],
          [["holdout (live)", f"{trained.card.metrics['holdout'].mae:.2f}",
            f"{trained.card.metrics['holdout'].rmse:.2f}", f"{trained.card.metrics['holdout'].r2:.3f}"]])
    if deploy:
        _activate(version, "deploy")


@cli.command("list")
def model_list() -> None:
    """List registered versions with golden-set metrics; * marks the active one."""
    reg = _registry()
    versions = reg.versions()
    if not versions:
        raise LabError("no model trained yet; run: aiops-lab model train", ExitStatus.CONFLICT)
    active = reg.active()
    rows = []
    for v in versions:
        card = reg.card(v)
        rows.append(["*" if v == active else "", v, card.created_at.strftime("%Y-%m-%d %H:%M"),
                     *_metrics_row(card), card.description])
    table(None, ["", "version", "created (UTC)", "MAE", "RMSE", "R²", "description"], rows)


@cli.command("info")
@click.argument("version", required=False)
def model_info(version: str | None) -> None:
    """Show a model card (default: the active version)."""
    reg = _registry()
    version = version or reg.active()
    if version is None:
        raise LabError("no model is active; run: aiops-lab model train", ExitStatus.CONFLICT)
    card = reg.card(version)
    console.print_json(card.model_dump_json())


@cli.command("deploy")
@click.argument("version")
def model_deploy(version: str) -> None:
    """Activate VERSION (e.g. v3). Live when the service runs, else on next start."""
    _registry().card(version)  # RegistryError (exit 5) names the registered versions
    _activate(version, "deploy")


@cli.command("rollback")
def model_rollback() -> None:
    """Re-activate the version that was active before the current one."""
    _activate("", "rollback")
