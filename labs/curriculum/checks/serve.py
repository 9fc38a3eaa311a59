"""Module 01, serve a model: train + deploy, single and batch predictions, the model card, feedback.

Judged from the lab's own records: the model registry (a version created after ``lab start`` is active in
the running service), the prediction log (rows carrying the X-Request-ID the learner chose, written after
``lab start``) and the live model card (``GET /model``).
"""

from __future__ import annotations

from datetime import datetime

from aiops_core import paths
from labs.curriculum import answers, live
from labs.curriculum.catalogue import Exercise
from labs.curriculum.context import Context
from labs.curriculum.steps import Fail, close

ANSWERS = "answers.yaml"


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def _rows(ctx: Context, request_id: str) -> list[tuple[str, float, str, float]]:
    """(prediction id, ts, model version, prediction) of the learner's request, after the module started."""
    return live.log_rows("SELECT id, ts, model_version, prediction FROM predictions WHERE request_id = ? "
                         "AND ts >= ? ORDER BY ts", (request_id, ctx.started_at))


def check_train_deploy(ctx: Context) -> None:
    from model_service.registry import Registry  # sklearn + skops: only when this exercise is checked

    s = ctx.steps
    reg = Registry(paths.models_dir())
    mine = [v for v in reg.versions() if reg.card(v).created_at.timestamp() >= ctx.started_at]
    if not mine:
        raise Fail("a model version trained by you", f"no version in {reg.root} was created after you started "
                   f"this module ({_clock(ctx.started_at)})",
                   "train one: aiops-lab model train --seed 11 --no-deploy   (any seed; note the version it prints)")
    s.ok("a model version trained by you", f"{', '.join(mine)} created after {_clock(ctx.started_at)}")
    live.require("model-service")
    serving = live.service_json("/model")["version"]
    s.check(serving in mine, "your version serves traffic", f"the running service serves {serving}",
            f"deploy yours: aiops-lab model deploy {mine[-1]}   (then GET /model shows it)")


def _own_request(ctx: Context, key: str, what: str) -> list[tuple[str, float, str, float]]:
    data = ctx.answers(ANSWERS)
    request_id = answers.text(data, key, ctx.file(ANSWERS), "the X-Request-ID you sent")
    rows = _rows(ctx, request_id)
    if not rows:
        raise Fail(f"your {what} is in the prediction log",
                   f"no prediction with request id {request_id!r} since {_clock(ctx.started_at)}",
                   f"send it with the header 'X-Request-ID: {request_id}' (letters, digits, . _ : -) to POST /predict "
                   "on the running lab, after 'aiops-lab lab start'")
    return rows


def check_single(ctx: Context) -> None:
    rows = _own_request(ctx, "single_request_id", "single prediction")
    ctx.steps.check(len(rows) == 1, "your single prediction is in the prediction log",
                    f"{len(rows)} row(s) with that request id (served by {rows[0][2]})",
                    "a single prediction is ONE record object in the body, not {\"instances\": [...]}; use a fresh "
                    "request id for it")


def check_batch(ctx: Context) -> None:
    rows = _own_request(ctx, "batch_request_id", "batch prediction")
    ctx.steps.check(len(rows) >= 2, "your batch prediction is in the prediction log",
                    f"{len(rows)} row(s) with that request id",
                    "a batch is {\"instances\": [record, record, ...]} with at least 2 records in one request")


def check_model_card(ctx: Context) -> None:
    s = ctx.steps
    data = ctx.answers(ANSWERS)
    path = ctx.file(ANSWERS)
    live.require("model-service")
    card = live.service_json("/model")
    version = answers.text(data, "model_version", path, "the version GET /model shows, e.g. v3")
    s.check(version == card["version"], "model_version", f"you wrote {version}, the service serves {card['version']}",
            "read it from the running service: curl $URL/model (or aiops-lab model info)")
    rows = answers.number(data, "training_rows", path, "the card's training_rows")
    s.check(rows == card["training_rows"], "training_rows", f"you wrote {rows:g}",
            "the model card's training_rows field (of the version that serves traffic)")
    mae = answers.number(data, "holdout_mae_minutes", path, "the card's holdout MAE in minutes")
    truth = card["metrics"]["holdout"]["mae"]
    s.check(close(mae, truth, 0.01, 0.005), "holdout_mae_minutes", f"you wrote {mae:g}",
            "metrics.holdout.mae in the model card: the mean absolute error on data held out from training")


def check_feedback(ctx: Context) -> None:
    s = ctx.steps
    data = ctx.answers(ANSWERS)
    path = ctx.file(ANSWERS)
    pid = answers.text(data, "feedback_prediction_id", path, "the prediction_id you sent feedback for")
    pred = next(iter(live.log_rows("SELECT request_id, prediction FROM predictions WHERE id = ? AND ts >= ?",
                                   (pid, ctx.started_at))), None)
    if pred is None:
        raise Fail("the prediction is yours", f"no prediction {pid!r} made since you started the module",
                   "copy a prediction_id from the response of YOUR single or batch request")
    fb = next(iter(live.log_rows("SELECT actual, prediction, ts FROM feedback WHERE prediction_id = ? AND ts >= ?",
                                 (pid, ctx.started_at))), None)
    own = {answers.get(data, k) for k in ("single_request_id", "batch_request_id")} - {None}
    s.check(str(pred[0]) in {str(x) for x in own}, "the prediction is yours",
            f"it was made by request {pred[0]!r}",
            "send feedback for a prediction of your single_request_id or batch_request_id request")
    if fb is None:
        raise Fail("your feedback is in the log", f"no feedback for {pid} since you started",
                   "POST /feedback {\"prediction_id\": \"...\", \"actual\": <observed minutes>}")
    s.ok("your feedback is in the log", f"actual {fb[0]:g} min vs predicted {fb[1]:.2f} min")
    err = answers.number(data, "absolute_error_minutes", path, "the absolute_error_minutes /feedback answered")
    s.check(close(err, abs(fb[1] - fb[0]), 0.0, 0.01), "absolute_error_minutes", f"you wrote {err:g}",
            "read absolute_error_minutes from the /feedback response: |predicted - actual| in minutes")


EXERCISES = (
    Exercise("train-deploy", "Train a model version and deploy it", check_train_deploy),
    Exercise("single-prediction", "Call POST /predict with one record and your own X-Request-ID", check_single),
    Exercise("batch-prediction", "Call POST /predict with a batch of records", check_batch),
    Exercise("model-card", "Read the live model card (GET /model)", check_model_card),
    Exercise("feedback", "Send ground truth for one of your predictions (POST /feedback)", check_feedback),
)
