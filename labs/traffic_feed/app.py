"""The traffic feed's HTTP API: road-congestion readings for delivery routes.

* ``POST /v1/traffic-index`` ``{"routes": [{"distance_km": 3.2, "is_peak_hour": 1}, ...]}`` ->
  ``{"traffic_index": [4.37, ...]}`` (what the model service calls, once per /predict request);
* ``GET /v1/traffic-index?distance_km=3.2&is_peak_hour=1`` -> one reading (for curl);
* ``GET /healthz`` (liveness: the process answers), ``GET /metrics``;
* ``GET /openapi.json``, ``/docs``, ``/redoc``: the API described (``openapi.py``), assets served offline;
* ``GET|PUT|DELETE /v1/control/fault``: the drill engine's fault control where it cannot write the fault
  file itself (compose: the file is in the container's volume). Disabled unless a control token is set,
  which the native lab never does; see ``control.py``.

Readings come from ``model_service.congestion``: deterministic per route and distributed like the training
data. An injected provider fault (``control.py``) slows down or fails the lookups only: ``/healthz`` and
``/metrics`` stay fast and green, like a provider whose status page says "operational" -- a health check
that does not exercise the data path tells you little about the data path.

Bad input is a 4xx whose ``error`` names the field; there is no 500 path.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from pathlib import Path
from typing import Annotated

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aiops_core.api_docs import docs_routes
from aiops_core.body_limit import BodyLimitMiddleware
from labs.traffic_feed import control
from labs.traffic_feed.control import FaultWatcher, FeedFault
from labs.traffic_feed.metrics import FeedMetrics
from labs.traffic_feed.openapi import build_openapi
from model_service import congestion
from model_service.features import FEATURES_BY_NAME

_DISTANCE = FEATURES_BY_NAME["distance_km"]
MAX_ROUTES = 100_000  # the model service's largest configurable batch
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class RouteKey(BaseModel):
    """A delivery route as the provider knows it: its length and whether it is driven at peak time."""

    model_config = _STRICT
    distance_km: Annotated[float, Field(ge=_DISTANCE.minimum, le=_DISTANCE.maximum)]
    is_peak_hour: Annotated[int, Field(ge=0, le=1)]


class LookupRequest(BaseModel):
    model_config = _STRICT
    routes: Annotated[list[RouteKey], Field(min_length=1, max_length=MAX_ROUTES)]


def _error(status: int, message: str, details: list[dict[str, str]] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "details": details or []}, status, headers=headers)


def _invalid(exc: ValidationError) -> JSONResponse:
    details = []
    for err in exc.errors(include_url=False):
        path = ""
        for part in err.get("loc", ()):
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        details.append({"field": path or "body", "rule": err["type"], "message": err["msg"]})
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return _error(422, f"{details[0]['field']}: {details[0]['message']}{more}", details)


class _Instrumented:
    """Pure-ASGI request metrics (status and duration by route), 404s and 413s included."""

    def __init__(self, app: ASGIApp, metrics: FeedMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500
        route = self.metrics.route(scope["path"])

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.duration.labels(route).observe(time.perf_counter() - started)


def create_app(fault_file: Path, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               control_token: str | None = None) -> ASGIApp:
    watcher = FaultWatcher(fault_file)
    metrics = FeedMetrics()

    async def fault_control(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        if not control_token:
            return _error(403, "control API is disabled: the drill engine writes the fault file "
                          f"({fault_file.name}) directly on this lab")
        if not auth.lower().startswith("bearer ") or not hmac.compare_digest(auth[7:].strip().encode(),
                                                                            control_token.encode()):
            return _error(401, "authorization: send 'Authorization: Bearer <token>'",
                          headers={"WWW-Authenticate": "Bearer"})
        if request.method == "PUT":
            try:
                fault = FeedFault.model_validate_json(await request.body())
            except ValidationError as exc:
                return _invalid(exc)
            control.write(fault, fault_file)
        elif request.method == "DELETE":
            control.clear(fault_file)
        current = control.read(fault_file)
        return JSONResponse({"fault": current.model_dump() if current else None})

    async def lookup(request: Request) -> Response:
        fault = watcher.current()
        if fault is not None and fault.mode == "down":
            return _error(503, "traffic-index: the traffic provider is unavailable; retry later",
                          headers={"Retry-After": "30"})
        if fault is not None and fault.mode == "slow":
            await asyncio.sleep(fault.delay_ms / 1000.0)
        try:
            if request.method == "GET":
                routes = [RouteKey.model_validate(dict(request.query_params), strict=False)]
            else:
                routes = LookupRequest.model_validate_json(await request.body()).routes
        except ValidationError as exc:
            return _invalid(exc)
        values = [congestion.reading(r.distance_km, r.is_peak_hour) for r in routes]
        metrics.readings.inc(len(values))
        if request.method == "GET":
            return JSONResponse({**routes[0].model_dump(), "traffic_index": values[0]})
        return Response(json.dumps({"traffic_index": values}, separators=(",", ":")),
                        media_type="application/json")

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    schema = build_openapi(RouteKey, LookupRequest, FeedFault)

    async def openapi(_: Request) -> Response:
        return JSONResponse(schema)

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(exc.status_code, f"{request.url.path}: {exc.detail}", headers=exc.headers)

    app = Starlette(routes=[Route("/v1/traffic-index", lookup, methods=["GET", "POST"]),
                            Route("/v1/control/fault", fault_control, methods=["GET", "PUT", "DELETE"]),
                            Route("/healthz", healthz, methods=["GET"]),
                            Route("/metrics", metrics_endpoint, methods=["GET"]),
                            Route("/openapi.json", openapi, methods=["GET"]),
                            *docs_routes(schema["info"]["title"])],
                    exception_handlers={HTTPException: http_error})
    return _Instrumented(BodyLimitMiddleware(app, max_body_bytes), metrics)

