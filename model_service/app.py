"""The FastAPI app factory: wires settings, state, routes, error handling and the middleware."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException

from aiops_core.api_docs import serve_docs_offline
from model_service import gc_policy, loop_lag, metrics
from model_service.access_log import AccessLog
from model_service.errors import ApiError, from_validation
from model_service.feature_lookup import TrafficFeedClient
from model_service.middleware import ObservabilityMiddleware
from model_service.prediction_log import PredictionLog
from model_service.registry import Registry, RegistryError
from model_service.routes import admin, asgi, health, predict
from model_service.runtime_config import ConfigStore
from model_service.schemas import OPENAPI_BODY_MODELS, batch_model
from model_service.settings import Settings
from model_service.state import ServiceState

log = logging.getLogger("aiops.service")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics.register_bulk_collectors()
    registry = Registry(settings.models_dir)
    state = ServiceState(
        settings=settings,
        registry=registry,
        log=PredictionLog(settings.prediction_log, settings.log_flush_ms, settings.log_queue_max_rows,
                          settings.log_retention_days, settings.log_retention_rows, settings.log_busy_timeout_ms),
        config=ConfigStore(settings.state_dir),
        feed=TrafficFeedClient(settings.traffic_feed_url),
    )
    access_writer = AccessLog() if settings.access_log != "off" else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.log.start()
        state.publish_flags()
        # A damaged registry never stops the service: it starts not-ready, says why on /readyz and /predict,
        # and its admin API stays up for the fix (``aiops-lab model deploy`` or ``model repair``).
        try:
            active = registry.active()
            if active:
                state.load_model()
            else:
                log.warning("no model is active; run: aiops-lab model train")
        except (RegistryError, OSError, ValueError) as exc:
            state.model_error = state.model_error or " ".join(str(exc).split())
            log.error("active model failed to load; serving 503 until a deploy", extra={"error": str(exc)})
        gc_policy.settle_after_startup()
        lag_watcher = loop_lag.start()
        log.info("model service started", extra={"port": settings.port, "admin_api": bool(settings.admin_token)})
        try:
            yield
        finally:
            await loop_lag.stop(lag_watcher)
            state.log.close()
            await state.feed.close()
            if access_writer is not None:
                access_writer.close()
            log.info("model service stopped; prediction log flushed")

    app = FastAPI(
        title="aiops-lab model service",
        version="0.1.0",
        description="Delivery-time predictions from a linear model, instrumented for the lab.",
        lifespan=lifespan,
    )
    serve_docs_offline(app)  # /docs and /redoc without a CDN: a learner's machine may be offline
    app.state.svc = state
    app.state.batch_model = batch_model(settings.max_batch_rows)
    app.include_router(predict.router)
    app.include_router(health.router)
    app.include_router(admin.router)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = from_validation(ValidationError.from_exception_data("request", list(exc.errors())))
        return JSONResponse(err.body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = f"{request.url.path}: {exc.detail}"
        return JSONResponse({"error": message, "details": []}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        rid = request.scope.get("state", {}).get("request_id")
        log.exception("unhandled error", extra={"request_id": rid})
        return JSONResponse({"error": f"internal error (request id {rid}); see the service logs",
                             "details": []}, status_code=500)

    generate_openapi = app.openapi

    def openapi_with_bodies() -> dict:
        # Routes that validate raw bytes reference their body models by $ref (openapi_extra); FastAPI
        # never sees those models, so they must be added to the components or the schema is unresolvable.
        if app.openapi_schema is None:
            schema = generate_openapi()
            _, defs = models_json_schema([(m, "validation") for m in OPENAPI_BODY_MODELS],
                                         ref_template="#/components/schemas/{model}")
            schema.setdefault("components", {}).setdefault("schemas", {}).update(defs["$defs"])
            # The route is declared with the default batch limit; document the one enforced here.
            schema["paths"]["/predict"]["post"].update(predict.predict_openapi(settings.max_batch_rows))
        return app.openapi_schema

    app.openapi = openapi_with_bodies  # type: ignore[method-assign]

    # The hot paths are served by plain ASGI handlers right below the observability middleware, ahead of
    # the router: FastAPI's per-request dependency machinery was ~30% of a single-row /predict under py-spy,
    # and the layers between that middleware and a plain Starlette route another ~15% (routes/asgi.py,
    # benchmarks/PROFILE.md). The documented APIRoutes stay, so /openapi.json and /docs describe them (and
    # they delegate to the same handlers). Added first, so the observability middleware wraps it.
    app.add_middleware(asgi.DirectRoutes, routes={("POST", "/predict"): predict.serve_predict,
                                                  ("POST", "/feedback"): predict.serve_feedback})
    app.add_middleware(ObservabilityMiddleware, max_body_bytes=settings.max_body_bytes,
                       access_log=settings.access_log, writer=access_writer)
    return app
