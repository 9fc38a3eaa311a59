"""POST /predict and POST /feedback: the hot path.

The body is validated in one pass from raw bytes instead of FastAPI's parse-then-validate: by msgspec
(``fast_body``, 3x cheaper), and by the pydantic model (``model_validate_json``) when msgspec refuses it, so
every 4xx names the field as it always did; the OpenAPI schema stays truthful through ``openapi_extra``.
Rows that omit ``traffic_index`` are completed by ``feature_lookup`` (the one network call a /predict can
make).

``serve_predict`` and ``serve_feedback`` are plain ASGI apps (``routes/asgi.py`` says why), mounted by app.py
ahead of the documented FastAPI routes below, which delegate to them: one behaviour, two entrances.

Batches of ``NUMPY_MIN_ROWS`` rows or more are predicted and observed in numpy; smaller ones in Python,
where numpy's per-call overhead costs more than it saves. Measured costs: benchmarks/PROFILE.md.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import time
from itertools import chain
from typing import Any

import msgspec
import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.types import Receive, Scope, Send

from model_service import fast_body, feature_lookup, metrics
from model_service.errors import ApiError, from_validation
from model_service.features import FEATURE_NAMES
from model_service.prediction_log import LogRefused, PredictionLog, wait_committed
from model_service.routes import asgi
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
_ERRORS = {code: {"model": ErrorResponse} for code in (413, 415, 422, 503)}
_BOOL = TypeAdapter(bool)
_ENCODER = json.JSONEncoder(separators=(",", ":"))  # built once; json.dumps(separators=...) builds one per call
NUMPY_MIN_ROWS = 16
_FIXED_LIMIT = 1e12
BACKLOG_WAIT_S = 0.25  # the most a request waits for the prediction log's writer before appending anyway


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


def _explain_param(scope: Scope) -> bool:
    """``?explain=`` parsed by hand: FastAPI's per-request parameter machinery cost ~15% of a /predict.

    Same rules and error shape as a declared ``bool`` query parameter; documented in ``predict_openapi``.
    """
    if not scope["query_string"]:
        return False
    raw = QueryParams(scope["query_string"]).get("explain")
    if raw is None:
        return False
    try:
        return _BOOL.validate_python(raw)
    except ValidationError as exc:
        raise from_validation(exc, loc_prefix=("query", "explain")) from None


def minutes_text(preds: list[float]) -> list[str]:
    """``repr(round(p, 3))`` of each prediction -- the JSON the service always sent -- at half the cost.

    ``round`` then ``repr`` convert twice between binary and decimal; ``%.3f`` once, and is correctly
    rounded the same way, so with trailing zeros stripped it is the same text for every |p| < 1e12 (checked
    on millions of values, ties included: tests/model_service/test_predict_route.py). Beyond that ``repr``
    switches to exponent notation, so the slow form is kept there.
    """
    if not preds or max(preds) >= _FIXED_LIMIT or min(preds) <= -_FIXED_LIMIT:
        return [repr(round(p, 3)) for p in preds]
    texts = [f"{p:.3f}".rstrip("0") for p in preds]
    return [t + "0" if t[-1] == "." else t for t in texts]


@functools.lru_cache(maxsize=64)
def _items_template(n: int, prefix: str) -> str:
    return ",".join(['{"prediction_id":"' + prefix + '%x","predicted_minutes":%s}'] * n)


def _rounded_in_numpy(predicted: np.ndarray) -> list[float] | None:
    """``round(p, 3)`` of each prediction, bit for bit, computed in numpy; None where that cannot be had.

    ``rint(p * 1000) / 1000`` is Python's correctly rounded result unless the product's own rounding error
    moved it across a half (``x.5``, where rint decides): those few values -- within two ulps of a half --
    are rounded by Python instead. The division of an integer below 2**53 by 1000 is correctly rounded,
    as ``round`` is.
    """
    if not predicted.size or not np.isfinite(predicted).all() or np.abs(predicted).max() >= _FIXED_LIMIT:
        return None
    scaled = predicted * 1000.0
    rounded = np.rint(scaled) / 1000.0
    near_half = np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) <= 2.0 * np.abs(np.spacing(scaled))
    values = rounded.tolist()
    for i in np.flatnonzero(near_half).tolist():
        values[i] = round(float(predicted[i]), 3)
    return values


def predictions_json(prefix: str, first: int, preds: list[float], predicted: np.ndarray | None = None) -> str:
    """The response's prediction objects, comma-separated, with ``minutes_text``'s numbers; the ids are
    ``prefix`` and the counters from ``first`` (``IdGenerator.reserve``).

    With the batch's predictions as an array: rounded in numpy (``_rounded_in_numpy``), their shortest
    text written by msgspec in one call (the same digits as ``repr``, checked with ``minutes_text``'s
    values), and the objects, ids included, by one ``%`` over a template of ``n`` of them -- instead of an
    f-string and a ``%.3f`` per row, and an id string per row. The prefix is ours ([a-z0-9-], no ``%``) and
    predictions finite, so the text is valid JSON.
    """
    values = None if predicted is None or len(preds) != len(predicted) else _rounded_in_numpy(predicted)
    if values is None:
        return ",".join([f'{{"prediction_id":"{prefix}{c:x}","predicted_minutes":{minutes}}}'
                         for c, minutes in enumerate(minutes_text(preds), first)])
    args: list[object] = [None] * (2 * len(values))
    args[0::2] = range(first, first + len(values))
    args[1::2] = msgspec.json.encode(values).decode()[1:-1].split(",")
    return _items_template(len(values), prefix) % tuple(args)


@functools.lru_cache(maxsize=32)
def _predictions_counter(version: str) -> Any:
    return metrics.PREDICTIONS.labels(version)


def _busy_cpu(ms: int) -> None:
    end = time.perf_counter() + ms / 1000.0
    x = 0
    while time.perf_counter() < end:
        x += 1


def _is_batch(body: bytes) -> bool:
    """Does the body carry ``instances`` (a batch)? A byte search on the hot path; a key written with JSON
    escapes (``"\\u0069nstances"``, legal JSON) is decoded once, so it is not misread as a single row whose
    every field is missing."""
    if b'"instances"' in body:
        return True
    if b"\\u" not in body:
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "instances" in parsed


async def serve_predict(scope: Scope, receive: Receive, send: Send) -> None:
    started = time.perf_counter()
    app = scope["app"]
    svc: ServiceState = app.state.svc
    explain = _explain_param(scope)
    asgi.require_json(scope)
    body = await asgi.read_body(receive)
    is_batch = _is_batch(body)
    decoded = fast_body.decode(body, is_batch, svc.settings.max_batch_rows)
    if decoded is None:  # refused by the fast path: pydantic says why (or accepts it: fast_body says when)
        try:
            parsed = (app.state.batch_model if is_batch else PredictionRecord).model_validate_json(body)
        except ValidationError as exc:
            raise from_validation(exc) from None
        records = parsed.instances if is_batch else (parsed,)
        rows = [list(r.__dict__.values()) for r in records]
        omitted = feature_lookup.omitted_rows(records, rows)
    else:
        rows, omitted = decoded
    model = svc.model
    if model is None:
        raise ApiError(503, f"model: {svc.model_error or 'no model is active; run: aiops-lab model train'}")
    flags = svc.config.current
    if flags.traffic_feed != "live":
        broken = 0.0 if flags.traffic_feed == "zero" else None
        rows = [[*row[:_TRAFFIC], broken, *row[_TRAFFIC + 1:]] for row in rows]  # (fast_body's rows are tuples)
    elif omitted:
        await feature_lookup.fill(svc.feed, rows, omitted, flags)
    if len(rows) >= NUMPY_MIN_ROWS:
        matrix: np.ndarray | None = _matrix(rows)
        predicted = model.predict_matrix(matrix)
        preds = predicted.tolist()
    else:
        matrix = predicted = None
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
    request_id = scope["state"].get("request_id")
    version = model.version
    first = svc.ids.reserve(len(rows))
    if svc.log.backlogged():
        await _let_the_writer_catch_up(svc.log)
    try:
        # One entry for the whole request: the writer stores it as one row (prediction_log_schema says why).
        fut = svc.log.append_batch(svc.ids.prefix, first, now, version, rows, preds, latency_ms, request_id,
                                   wait=svc.settings.log_mode == "sync")
        if fut is not None:  # sync mode: the file can be lost while the rows wait (LogDetached)
            await wait_committed(fut)
    except LogRefused as exc:  # full, or its file lost: refuse rather than acknowledge rows that may be lost
        raise ApiError(503, f"prediction log: {exc}; retry shortly", headers={"Retry-After": "1"}) from None
    _observe(version, rows, preds, matrix, predicted)

    if explanations is None:
        # Ids are ours ([A-Za-z0-9-]) and predictions finite, so a format string is valid JSON -- and 4x
        # cheaper than building a dict per row and encoding it.
        items = predictions_json(svc.ids.prefix, first, preds, predicted)
        if is_batch:
            await asgi.send_json(send, f'{{"model_version":"{version}","predictions":[{items}]}}')
        else:
            await asgi.send_json(send, f'{items[:-1]},"model_version":"{version}"}}')
        return
    out = [{"prediction_id": f"{svc.ids.prefix}{first + j:x}", "predicted_minutes": round(pred, 3),
            "explanation": explanations[j]} for j, pred in enumerate(preds)]
    answer = {"model_version": version, "predictions": out} if is_batch else {**out[0], "model_version": version}
    await asgi.send_json(send, _ENCODER.encode(answer))


def _matrix(rows: list[Any]) -> np.ndarray:
    """The rows as a float matrix, None as NaN. ``fromiter`` over the flat values is the cheapest (~20 % less
    than ``np.array`` of one flat list, itself ~30 % less than numpy's nested-list discovery); it refuses
    None, so a batch with a missing value takes ``np.array``."""
    width = len(FEATURE_NAMES)
    try:
        flat = np.fromiter(chain.from_iterable(rows), dtype=float, count=len(rows) * width)
    except TypeError:
        flat = np.array(list(chain.from_iterable(rows)), dtype=float)
    return flat.reshape(len(rows), width)


async def _let_the_writer_catch_up(log: PredictionLog) -> None:
    """Back-pressure instead of refusal: while the log's backlog is over half full, idle the event loop in
    short sleeps (the writer thread gets the core and the GIL) for at most ``BACKLOG_WAIT_S``.

    Without it, a saturated core serving large batches fills the backlog and answers 503 "backlog is full"
    although the writer is healthy, only slower than the loop (benchmarks/PROFILE.md, round 2). A writer
    that is stuck still ends in that 503, each request delayed by at most the bound on the way.
    """
    deadline = time.perf_counter() + BACKLOG_WAIT_S
    while log.backlogged() and time.perf_counter() < deadline:
        await asyncio.sleep(0.001)


def _observe(version: str, rows: list[list[Any]], preds: list[float], matrix: np.ndarray | None,
             predicted: np.ndarray | None) -> None:
    """Count the rows and observe the served values: a few rows one call per histogram; a numpy batch is
    handed to ``metrics.SERVED_VALUES``, which buckets many requests' arrays at once."""
    _predictions_counter(version).inc(len(preds))
    if matrix is None or predicted is None:
        metrics.PREDICTED_DELIVERY.observe_many([p * 60.0 for p in preds])
        for i, name in enumerate(FEATURE_NAMES):
            metrics.FEATURE_VALUES[name].observe_many([row[i] for row in rows if row[i] is not None])
        return
    metrics.SERVED_VALUES.add(matrix, predicted)  # bucketed many requests at a time, before any scrape


async def serve_feedback(scope: Scope, receive: Receive, send: Send) -> None:
    svc: ServiceState = scope["app"].state.svc
    asgi.require_json(scope)
    try:
        fb = FeedbackRequest.model_validate_json(await asgi.read_body(receive))
    except ValidationError as exc:
        raise from_validation(exc) from None
    try:
        hit = svc.log.lookup(fb.prediction_id)
    except LogRefused as exc:  # the file being reopened: nothing to read from for a moment
        raise ApiError(503, f"prediction log: {exc}; retry shortly", headers={"Retry-After": "1"}) from None
    if hit is None:
        metrics.FEEDBACK_UNKNOWN.inc()
        raise ApiError(404, f"prediction_id: no prediction with id {fb.prediction_id!r} is in the log "
                       "(expired by retention, or never made)")
    version, predicted = hit
    error = abs(predicted - fb.actual)
    try:
        fut = svc.log.append_feedback((fb.prediction_id, time.time(), fb.actual, version, predicted),
                                      wait=svc.settings.log_mode == "sync")
        await wait_committed(fut)
    except LogRefused as exc:
        raise ApiError(503, f"prediction log: {exc}; retry shortly", headers={"Retry-After": "1"}) from None
    metrics.FEEDBACK.labels(version).inc()
    metrics.ABS_ERROR.labels(version).observe(error * 60.0)
    await asgi.send_json(send, _ENCODER.encode({"prediction_id": fb.prediction_id, "model_version": version,
                                            "absolute_error_minutes": round(error, 3)}))


# --- the documented routes: what /openapi.json and /docs describe; app.py serves the handlers above first.
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
    return await asgi.as_response(serve_predict, request)


@router.post("/feedback", summary="Report the observed delivery time for a prediction",
             response_model=FeedbackResponse,
             responses={404: {"model": ErrorResponse}, 413: {"model": ErrorResponse},
                        415: {"model": ErrorResponse}, 422: {"model": ErrorResponse},
                        503: {"model": ErrorResponse}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/FeedbackRequest"}}}}})
async def feedback(request: Request) -> Response:
    return await asgi.as_response(serve_feedback, request)
