"""Module 06, drift: send your mystery traffic, read the Evidently report, name what drifted and by how much.

``lab start`` draws a seed; the seed picks one of the generator's drift scenarios, so learners sitting
next to each other diagnose different incidents and cannot copy answers. Ground truth comes from the
generator itself (which feature columns the scenario changes, for the same seed) and from the drift
monitor's own code run at check time on the rows the learner actually sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiops_core import http as lab_http
from aiops_core import paths
from aiops_core.errors import ExitStatus, LabError
from labs.curriculum import answers, live
from labs.curriculum.catalogue import Exercise
from labs.curriculum.context import Context
from labs.curriculum.steps import Fail, close
from model_service.features import FEATURE_NAMES, TARGET

if TYPE_CHECKING:
    import pandas as pd

ANSWERS = "drift.yaml"
# Scenarios whose drift shows in one input feature; the learner gets one of them, picked by their seed.
MYSTERY = ("covariate-shift", "rain", "feed-broken-zero", "unit-error")
MIN_ROWS = 1000
BATCH = 100
FEEDBACK_EVERY = 4  # ground truth for every 4th row, so the report has a quality section too
SCORE_TOLERANCE = 0.30


def scenario(seed: int) -> str:
    return MYSTERY[seed % len(MYSTERY)]


def request_prefix(seed: int) -> str:
    return f"lab06-{seed:08x}"


def drifted_features(name: str, seed: int) -> list[str]:
    """The feature columns the scenario changes, found by generating both worlds from the same seed."""
    from model_service import generator

    normal, shifted = generator.generate(200, seed, "normal"), generator.generate(200, seed, name)
    return [n for n in FEATURE_NAMES if not normal[n].equals(shifted[n])]


def on_start(ctx: Context, force: bool) -> list[str]:
    return ["  your personal drift scenario is drawn; send its traffic with: aiops-lab lab traffic "
            f"{ctx.module_id}"]


def traffic(ctx: Context, rows: int) -> list[str]:
    """POST the learner's scenario rows in batches (own X-Request-IDs), with ground truth for some."""
    from model_service import generator

    live.require("model-service")
    base = live.url("model-service")
    frame = generator.generate(rows, ctx.seed, scenario(ctx.seed))
    records = generator.records(frame)
    prefix = request_prefix(ctx.seed)
    sent = labelled = 0
    with lab_http.new_client(base_url=base, timeout=30.0) as client:
        for start in range(0, rows, BATCH):
            resp = client.post("/predict", json={"instances": records[start:start + BATCH]},
                               headers={"X-Request-ID": f"{prefix}-{start // BATCH:04d}"})
            if resp.status_code != 200:
                raise LabError(f"POST /predict answered HTTP {resp.status_code} after {sent} rows: {resp.text[:200]}; "
                               "check the service (aiops-lab status) and revert fault flags (aiops-lab config list), "
                               "then send again", ExitStatus.CONFLICT)
            for offset, pred in enumerate(resp.json()["predictions"]):
                sent += 1
                if (start + offset) % FEEDBACK_EVERY == 0:
                    client.post("/feedback", json={"prediction_id": pred["prediction_id"],
                                                   "actual": float(frame[TARGET].iloc[start + offset])})
                    labelled += 1
    return [f"sent {sent} rows of your mystery traffic ({labelled} with ground truth) to {base}",
            f"next: aiops-lab drift report --rows {sent}   (it prints the table and the Evidently HTML report path)"]


def learner_rows(ctx: Context) -> tuple[str, pd.DataFrame]:
    """(model version, frame like the drift monitor's window) of the rows the learner's generator sent."""
    import pandas as pd

    from monitoring.drift.window import ACTUAL, PREDICTION

    cols = ", ".join("p." + n for n in FEATURE_NAMES)
    conn = live.prediction_log()
    try:
        rows = conn.execute(f"SELECT p.model_version, {cols}, p.prediction, f.actual FROM predictions p LEFT JOIN "
                            "feedback f ON f.prediction_id = p.id WHERE p.request_id LIKE ? AND p.ts >= ? "
                            "ORDER BY p.ts DESC", (request_prefix(ctx.seed) + "-%", ctx.started_at)).fetchall()
    finally:
        conn.close()
    if len(rows) < MIN_ROWS:
        raise Fail("your mystery traffic is in the log",
                   f"{len(rows)} of your rows since you started (need {MIN_ROWS})",
                   f"send it: aiops-lab lab traffic {ctx.module_id}")
    frame = pd.DataFrame(rows, columns=["model_version", *FEATURE_NAMES, PREDICTION, ACTUAL])
    version = str(frame["model_version"].mode().iloc[0])
    frame = frame[frame["model_version"] == version].drop(columns="model_version")
    return version, frame.apply(pd.to_numeric, errors="coerce").astype(float).reset_index(drop=True)


def check_traffic(ctx: Context) -> None:
    version, frame = learner_rows(ctx)
    ctx.steps.ok("your mystery traffic is in the log", f"{len(frame)} rows served by {version}")


def check_diagnose(ctx: Context) -> None:
    s = ctx.steps
    data = ctx.answers(ANSWERS)
    path = ctx.file(ANSWERS)
    learner_rows(ctx)  # the diagnosis must come from traffic the learner actually sent
    truth = scenario(ctx.seed)
    feature = answers.text(data, "drifted_feature", path, "a feature name")
    if feature not in FEATURE_NAMES:
        raise Fail("drifted_feature", f"{feature!r} is not a feature", "one of: " + ", ".join(FEATURE_NAMES))
    moved = drifted_features(truth, ctx.seed)
    s.check(feature in moved, "drifted_feature", f"you named {feature}",
            "the report's table: the feature whose drift score is far above its threshold (DRIFT)")
    from model_service import generator

    named = answers.text(data, "scenario", path, "a generator scenario name")
    if named not in generator.SCENARIOS:
        raise Fail("scenario", f"{named!r} is not a scenario", "one of: " + ", ".join(generator.SCENARIOS))
    s.check(named == truth, "scenario", f"you named {named}",
            "the same feature can drift for different reasons: look at the zero share, the out-of-range share and "
            "the size of the shift (aiops-lab load profiles describes each scenario)")


def check_measure(ctx: Context) -> None:
    from monitoring.drift.config import load
    from monitoring.drift.evaluate import evaluate
    from monitoring.drift.reference import ReferenceStore
    from monitoring.drift.settings import DriftSettings

    s = ctx.steps
    data = ctx.answers(ANSWERS)
    path = ctx.file(ANSWERS)
    version, frame = learner_rows(ctx)
    feature = drifted_features(scenario(ctx.seed), ctx.seed)[0]
    settings = DriftSettings.from_env()  # the same config and minimum rows as 'aiops-lab drift report'
    config = load(settings.config_path)
    method = answers.text(data, "method", path, "the drift method the report names for the feature")
    s.check(method.lower() == config.features[feature].method, "method", f"you named {method}",
            "the report's 'method' column for the drifted feature (set per feature in monitoring/drift/drift.yml)")
    score = answers.number(data, "score", path, "the drift score the report shows for the feature")
    reference = ReferenceStore(paths.models_dir()).get(version)
    result = evaluate(frame, reference, config, min_rows=settings.min_rows, min_feedback_rows=len(frame) + 1)
    truth = next(f for f in result.features if f.name == feature).score
    if truth is None:
        raise Fail("score", f"the monitor could not score {feature} on your rows", "send traffic again")
    s.check(close(score, truth, SCORE_TOLERANCE), "score", f"you wrote {score:g}; on your rows it is {truth:.4g}",
            f"run: aiops-lab drift report --rows {len(frame)} right after sending your traffic, while nothing else "
            "sends traffic (the window must hold only your rows), and copy the drifted feature's score")


EXERCISES = (
    Exercise("traffic", "Send your mystery traffic (aiops-lab lab traffic 06-drift)", check_traffic),
    Exercise("diagnose", "Name the drifted feature and the scenario behind it", check_diagnose),
    Exercise("measure", "Name the drift method and the score the report shows", check_measure),
)
