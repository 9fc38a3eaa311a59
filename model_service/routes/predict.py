"""POST /predict and POST /feedback: the hot path.

The body is validated in one pass from raw bytes (``model_validate_json``) instead of FastAPI's
parse-then-validate; the OpenAPI schema stays truthful through ``openapi_extra``. Rows that omit
``traffic_index`` are completed by ``feature_lookup`` (the one network call a /predict can make).
"""

from __future__ import annotations

import asyncio
import json
import random
import time

from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from model_service import feature_lookup, metrics
from model_service.errors import ApiError, from_validation
from model_service.features import FEATURE_NAMES
from model_service.prediction_log import LogFull, wait_committed
from model_service.schemas import (
    BatchPredictionResponse,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    PredictionRecord,
    SinglePredictionResponse,
)
from model_service.state import ServiceState

router = APIRouter(tags=["predictions"])
_TRAFFIC = feature_lookup.INDEX
_ERRORS = {code: {"model": ErrorResponse} for code in (413, 422, 503)}
_BOOL = TypeAdapter(bool)
_ENCODER = json.JSONEncoder(separators=(",", ":"))  # built once; json.dumps(separators=...) builds one per call


def predict_openapi(max_rows: int) -> dict:
    """The /predict body schema; app.py re-renders it with the configured batch limit."""
    record = {"$ref": "#/components/schemas/PredictionRecord"}
    batch = {"type": "object", "additionalProperties": False, "required": ["instances"],
             "properties": {"instances": {"type": "array", "items": record, "minItems": 1,
                                          "maxItems": max_rows}}}
    explain = {"name": "explain", "in": "query", "required": False,
               "description": "Attach per-feature contributions (slow)",
               "schema": {"type": "boolean", "default": False}}
    return {"parameters": [explain], "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"oneOf": [record, batch]}}}}}


def _explain_param(request: Request) -> bool:
    """``?explain=`` parsed by hand: FastAPI's per-request parameter machinery cost ~15% of a /predict.

    Same rules and error shape as a declared ``bool`` query parameter; documented in ``predict_openapi``.
    """
    if not request.scope["query_string"]:
        return False
    raw = request.query_params.get("explain")
    if raw is None:
        return False
    try:
        return _BOOL.validate_python(raw)
    except ValidationError as exc:
        raise from_validation(exc, loc_prefix=("query", "explain")) from None


def _svc(request: Request) -> ServiceState:
    return request.app.state.svc


def _json(body: object, status: int = 200) -> Response:
    return Response(_ENCODER.encode(body), status, media_type="application/json")


def _busy_cpu(ms: int) -> None:
    end = time.perf_counter() + ms / 1000.0
    x = 0
    while time.perf_counter() < end:
        x += 1


@router.post(
    "/predict",
    summary="Predict delivery time for one record or a batch",
    description="Send one record (an object with every feature) or `{\"instances\": [record, ...]}`. "
    "Every row gets a `prediction_id` to send ground truth to `/feedback` later. A record may omit "
    "`traffic_index`: the service then looks it up in the traffic feed (one call per request); if that lookup "
    "fails, the runtime flag `traffic_feed_fallback` decides between a 503 naming the dependency and a "
    "prediction with the value imputed.",
    response_model=SinglePredictionResponse | BatchPredictionResponse,
    responses=_ERRORS,
    openapi_extra=predict_openapi(1000),
)
async def predict(request: Request) -> Response:
    started = time.perf_counter()
    svc = _svc(request)
    explain = _explain_param(request)
    body = await request.body()
    is_batch = b'"instances"' in body
    try:
        parsed = (request.app.state.batch_model if is_batch else PredictionRecord).model_validate_json(body)
    except ValidationError as exc:
        raise from_validation(exc) from None
    model = svc.model
    if model is None:
        raise ApiError(503, "model: no model is active; run: aiops-lab model train")
    flags = svc.config.current
    records = parsed.instances if is_batch else (parsed,)
    rows = [list(r.__dict__.values()) for r in records]
    if flags.traffic_feed != "live":
        broken = 0.0 if flags.traffic_feed == "zero" else None
        for row in rows:
            row[_TRAFFIC] = broken
    elif omitted := feature_lookup.omitted_rows(records, rows):
        await feature_lookup.fill(svc.feed, rows, omitted, flags)
    preds = model.predict_rows(rows)

    if flags.extra_latency_ms:
        await asyncio.sleep(flags.extra_latency_ms / 1000.0)
    if flags.cpu_burn_ms:
        _busy_cpu(flags.cpu_burn_ms)
    if flags.memory_leak_kb_per_request:
        svc.leaked.append(bytearray(flags.memory_leak_kb_per_request * 1024))
    if flags.error_ratio and random.random() < flags.error_ratio:
        raise ApiError(500, "prediction backend error; see the service logs with this request id")
    explanations = None
    if (explain or flags.explanations_enabled) and svc.background is not None:
        # CPU-heavy: run it in the threadpool so the event loop keeps serving health checks and the admin
        # API (the learner's way out). /predict still slows down under it -- that is the latency drill.
        background = svc.background
        explanations = await run_in_threadpool(lambda: [model.explain(row, background) for row in rows])

    now = time.time()
    latency_ms = (time.perf_counter() - started) * 1000.0
    request_id = request.scope["state"].get("request_id")
    version = model.version
    ids = [svc.ids.next() for _ in rows]
    log_rows = [(pid, now, version, *row, pred, latency_ms, request_id)
                for pid, row, pred in zip(ids, rows, preds, strict=True)]
    try:
        fut = svc.log.append_predictions(log_rows, wait=svc.settings.log_mode == "sync")
    except LogFull as exc:
        raise ApiError(503, f"prediction log: {exc}; retry shortly", headers={"Retry-After": "1"}) from None
    await wait_committed(fut)

    metrics.PREDICTIONS.labels(version).inc(len(preds))
    metrics.PREDICTED_DELIVERY.observe_many([p * 60.0 for p in preds])
    for i, name in enumerate(FEATURE_NAMES):
        metrics.FEATURE_VALUES[name].observe_many([row[i] for row in rows if row[i] is not None])

    if explanations is None:
        # Ids are ours ([A-Za-z0-9-]) and predictions finite, so a format string is valid JSON -- and 4x
        # cheaper than building a dict per row and encoding it.
        items = ",".join(f'{{"prediction_id":"{pid}","predicted_minutes":{round(pred, 3)!r}}}'
                         for pid, pred in zip(ids, preds, strict=True))
        if is_batch:
            body_out = f'{{"model_version":"{version}","predictions":[{items}]}}'
        else:
            body_out = f'{items[:-1]},"model_version":"{version}"}}'
        return Response(body_out, 200, media_type="application/json")
    out = [{"prediction_id": pid, "predicted_minutes": round(pred, 3), "explanation": explanations[j]}
           for j, (pid, pred) in enumerate(zip(ids, preds, strict=True))]
    if is_batch:
        return _json({"model_version": version, "predictions": out})
    return _json({**out[0], "model_version": version})


@router.post("/feedback", summary="Report the observed delivery time for a prediction",
             response_model=FeedbackResponse,
             responses={404: {"model": ErrorResponse}, 413: {"model": ErrorResponse},
                        422: {"model": ErrorResponse}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/FeedbackRequest"}}}}})
async def feedback(request: Request) -> Response:
    svc = _svc(request)
    try:
        fb = FeedbackRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise from_validation(exc) from None
    hit = svc.log.lookup(fb.prediction_id)
    if hit is None:
        metrics.FEEDBACK_UNKNOWN.inc()
        raise ApiError(404, f"prediction_id: no prediction with id {fb.prediction_id!r} is in the log "
                       "(expired by retention, or never made)")
    version, predicted = hit
    error = abs(predicted - fb.actual)
    fut = svc.log.append_feedback((fb.prediction_id, time.time(), fb.actual, version, predicted),
                                  wait=svc.settings.log_mode == "sync")
    await wait_committed(fut)
    metrics.FEEDBACK.labels(version).inc()
    metrics.ABS_ERROR.labels(version).observe(error * 60.0)
    return _json({"prediction_id": fb.prediction_id, "model_version": version,
                  "absolute_error_minutes": round(error, 3)})
