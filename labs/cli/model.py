"""``aiops-lab model``: train, list, inspect, deploy, roll back, retrain and repair model versions.

Deploy and rollback go through the running service's admin API (hot swap, recorded with the actor); when
the service is down they move the registry pointer on disk and the next start picks it up. Either way a
deploy passes the promotion gate (``model_service.promotion``) unless ``--force`` is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click
from rich.markup import escape

from aiops_core import paths
from aiops_core.durations import parse_seconds
from aiops_core.errors import Conflict, ExitStatus, LabError
from labs.cli.choices import LazyChoice, corruption_names, scenario_names
from labs.cli.output import console, info, ok, table
from model_service import promotion
from model_service.registry import Registry, RegistryError

# Training (scikit-learn, pandas) and the service client (httpx) are imported by the commands that use them:
# 'model list' reads JSON cards and must answer at once (it took 2.5 s importing them, 6-8 s on a laptop).


def _registry() -> Registry:
    return Registry(paths.models_dir())


def _metrics_row(card) -> list[str]:  # type: ignore[no-untyped-def]
    g = card.metrics["golden"]
    return [f"{g.mae:.2f}", f"{g.rmse:.2f}", f"{g.r2:.3f}"]


def _gate_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--force`` and ``--max-mae-increase``: one declaration for every command that deploys."""
    command = click.option("--force", is_flag=True,
                           help="Deploy even if the promotion gate refuses: the candidate's golden-set MAE is "
                           "worse than the active model's by more than --max-mae-increase (recorded in the "
                           "deployment history).")(command)
    return click.option("--max-mae-increase", type=click.FloatRange(min=0.0, max=10.0),
                        default=promotion.DEFAULT_MAX_MAE_INCREASE, show_default=True,
                        envvar="AIOPS_PROMOTION_MAX_MAE_INCREASE",
                        help=f"{promotion.MAX_MAE_INCREASE_HELP} Also AIOPS_PROMOTION_MAX_MAE_INCREASE.")(command)


def _activate(version: str, action: str, force: bool = False,
              max_increase: float = promotion.DEFAULT_MAX_MAE_INCREASE) -> None:
    from model_service.client import ServiceClient

    client = ServiceClient()
    if client.reachable():
        if action == "rollback":
            result = client.request("POST", "/admin/model/rollback", admin=True)
        else:
            gate = {"force": "true"} if force else {"max_mae_increase": str(max_increase)}
            result = client.request("POST", "/admin/model/deploy", admin=True, json={"version": version},
                                    params=gate)
        ok(f"{action}: {result['previous']} -> {result['active']} (live on {client.base_url})")
        return
    reg = _registry()
    if action == "rollback":
        target = reg.rollback_target()
    else:
        target = version
        reg.verify(target)  # the service would refuse it at its next start: refuse it now, naming the file
        if not force:
            promotion.check(reg, target, max_increase)
    previous = reg.activate(target, actor="cli-offline", action=action, forced=force and action == "deploy")
    ok(f"{action}: {previous} -> {target} (service not running; it loads {target} when it starts)")


def _deploy_new(version: str, force: bool, max_increase: float) -> None:
    """Deploy a version this command just registered; a refusal says it stays registered."""
    try:
        _activate(version, "deploy", force, max_increase)
    except Conflict as exc:
        raise Conflict(f"{version} is registered but was not deployed. {exc.message}") from None


@click.group()
def cli() -> None:
    """Train, list, deploy, roll back and repair model versions."""


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
@_gate_options
def model_train(rows: int, seed: int, scenario: str, corruption: str | None, deploy: bool | None, force: bool,
                max_mae_increase: float) -> None:
    """Train a LinearRegression, evaluate it, and register it as a new version.

    \b
    Examples:
      aiops-lab model train
      aiops-lab model train --bad labels-shuffled --no-deploy
    """
    from model_service import training

    reg = _registry()
    first = deploy is None and reg.active() is None  # a corrupt pointer is named before minutes of training
    started = time.monotonic()
    with console.status(f"training on {rows} generated rows ({scenario})..."):
        trained = training.train(rows=rows, seed=seed, scenario=scenario, corruption=corruption)
        version = reg.register(trained)
    card = reg.card(version)
    h = card.metrics["holdout"]
    table(f"registered {version} in {time.monotonic() - started:.1f}s", ["split", "MAE (min)", "RMSE (min)", "R²"],
          [["holdout", f"{h.mae:.2f}", f"{h.rmse:.2f}", f"{h.r2:.3f}"], ["golden", *_metrics_row(card)]])
    if deploy or first:
        _deploy_new(version, force, max_mae_increase)
    else:
        info(f"not deployed; to activate it: aiops-lab model deploy {version}")


@cli.command("retrain")
@click.option("--since", default="24h", show_default=True, help="Use labelled traffic newer than this (e.g. 30m, 6h).")
@click.option("--min-rows", default=300, show_default=True, type=click.IntRange(min=50),
              help="Refuse to train on fewer labelled rows.")
@click.option("--deploy/--no-deploy", default=True, show_default=True, help="Activate the new version.")
@_gate_options
def model_retrain(since: str, min_rows: int, deploy: bool, force: bool, max_mae_increase: float) -> None:
    """Retrain on recent live traffic that received feedback (the prediction log), then deploy.

    This is the lever for real covariate drift: the world moved, and the labels show where to. The new version
    is judged on its live holdout *and* on the fixed golden set: wrong labels fit their own holdout well, so the
    promotion gate compares golden-set MAEs with the active model before it deploys (--force overrides it).
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
    h, g = trained.card.metrics["holdout"], trained.card.metrics["golden"]
    table(f"registered {version}", ["split", "MAE (min)", "RMSE (min)", "R²"],
          [["holdout (live)", f"{h.mae:.2f}", f"{h.rmse:.2f}", f"{h.r2:.3f}"],
           ["golden", f"{g.mae:.2f}", f"{g.rmse:.2f}", f"{g.r2:.3f}"]])
    if deploy:
        _deploy_new(version, force, max_mae_increase)


@cli.command("list")
def model_list() -> None:
    """List registered versions with golden-set metrics; * marks the active one, "corrupt" one that cannot be
    served (the file and the fix are named below the table)."""
    reg = _registry()
    versions = reg.versions()
    if not versions:
        raise LabError("no model trained yet; run: aiops-lab model train", ExitStatus.CONFLICT)
    try:
        active, pointer_error = reg.active(), None
    except RegistryError as exc:  # still list the versions: they are what the repair chooses from
        active, pointer_error = None, exc
    rows, problems = [], []
    for v in versions:
        problem = reg.problem(v)
        if problem:
            problems.append((v, problem))
        try:
            card = reg.card(v)
        except RegistryError:
            rows.append(["*" if v == active else "", v, "corrupt", "", "", "", "", ""])
            continue
        rows.append(["*" if v == active else "", v, "corrupt" if problem else "ok",
                     card.created_at.strftime("%Y-%m-%d %H:%M"), *_metrics_row(card), card.description])
    table(None, ["", "version", "files", "created (UTC)", "MAE", "RMSE", "R²", "description"], rows)
    for v, problem in problems:
        info(f"[red]✗[/red] {v}{' (active)' if v == active else ''}: {escape(problem)}")
    if problems:
        info("a corrupt version cannot be served; deploy an intact one (aiops-lab model deploy VERSION) and see "
             "what else is damaged: aiops-lab model repair")
    if pointer_error is not None:
        raise pointer_error


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
@_gate_options
def model_deploy(version: str, force: bool, max_mae_increase: float) -> None:
    """Activate VERSION (e.g. v3). Live when the service runs, else on next start.

    Refused when VERSION's golden-set MAE is worse than the active model's by more than --max-mae-increase;
    the refusal gives both. Works with a corrupt active.json: it replaces it.

    \b
    Examples:
      aiops-lab model deploy v3
      aiops-lab model deploy v3 --force      # after checking why it is worse on the golden set
    """
    _registry().card(version)  # RegistryError (exit 5) names the registered versions
    _activate(version, "deploy", force, max_mae_increase)


@cli.command("rollback")
def model_rollback() -> None:
    """Re-activate the version that was active before the current one."""
    _activate("", "rollback")


@cli.command("repair")
def model_repair() -> None:
    """Check the registry's files and repair what the deployment history can restore.

    A corrupt or missing active.json is rebuilt from deployments.jsonl, and unreadable history lines are
    dropped. A corrupt artifact, card or reference sample cannot be rebuilt: it is named with the version to
    deploy instead. A running service keeps the model it has loaded; the repaired pointer is what its next
    start reads.
    """
    from model_service.registry_repair import repair

    reg = _registry()
    findings = repair(reg)
    if not findings:
        ok(f"the registry in {reg.root} is intact: pointer, history, and every version's card, artifact and "
           "reference sample")
        return
    for finding in findings:
        mark = "[green]✓[/green]" if finding.fixed else "[red]✗[/red]" if finding.blocking else "[yellow]![/yellow]"
        info(f"{mark} {escape(finding.message)}")
    if any(f.blocking for f in findings):
        raise LabError("the registry still cannot serve a model: act on the ✗ lines above", ExitStatus.CONFLICT)
    if any(f.fixed for f in findings):
        info("a stopped or not-ready service picks the repaired registry up when it starts: "
             "aiops-lab service restart model-service")
