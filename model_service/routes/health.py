"""Liveness, readiness, the model card and the metrics endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from aiops_core.topology import MODEL_SERVICE
from model_service import metrics
from model_service.schemas import ErrorResponse
from model_service.state import ServiceState

router = APIRouter(tags=["operations"])


def readiness(svc: ServiceState) -> dict[str, bool]:
    """The checks /readyz reports and ``aiops_readiness`` exports (names: ``metrics.READINESS_CHECKS``)."""
    checks = {"model_loaded": svc.model is not None, "prediction_log_writable": svc.log.healthy}
    assert tuple(checks) == metrics.READINESS_CHECKS
    return checks


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    # ``service``: health checks (supervisor, ``aiops-lab status``) tell this process from another on its port.
    return {"status": "ok", "service": MODEL_SERVICE.identity}


@router.get("/readyz", summary="Readiness: a model is loaded and the prediction log is writable",
            responses={503: {"description": "Not ready; `checks` says why"}})
async def readyz(request: Request) -> JSONResponse:
    svc = request.app.state.svc
    checks = readiness(svc)
    ready = all(checks.values())
    body = {"status": "ready" if ready else "not ready", "service": MODEL_SERVICE.identity, "checks": checks,
            "model_version": svc.model.version if svc.model else None}
    if not checks["model_loaded"]:  # a model that failed to load is named as such, not as "no model"
        body["hint"] = svc.model_error or "no model is active; run: aiops-lab model train"
    if not checks["prediction_log_writable"]:  # the SQLite error, or the lost file: the runbook's first clue
        body["prediction_log_error"] = svc.log.problem
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/model", summary="The active model card", responses={503: {"model": ErrorResponse}})
async def model_card(request: Request) -> JSONResponse:
    svc = request.app.state.svc
    if svc.model is None:
        return JSONResponse({"error": f"model: {svc.model_error or 'no model is active; run: aiops-lab model train'}",
                             "details": []}, status_code=503)
    return JSONResponse(svc.model.loaded.card.model_dump(mode="json"))


@router.get("/metrics", summary="Prometheus exposition", include_in_schema=True,
            response_class=Response)
async def prometheus_metrics(request: Request) -> Response:
    svc = request.app.state.svc
    metrics.LOG_QUEUE_DEPTH.set(svc.log.depth())
    for check, passing in readiness(svc).items():
        metrics.READINESS.labels(check).set(1.0 if passing else 0.0)
    svc.publish_flags()
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
