"""The admin API: model deploy/rollback and runtime config flags, behind a bearer token.

Without ``AIOPS_ADMIN_TOKEN`` the admin API is disabled (403), never open. The token is compared in
constant time. The actor recorded in histories comes from ``X-Actor`` (default ``admin-api``).

A deploy passes the promotion gate (``model_service.promotion``) unless ``?force=true``: the gate lives here,
where the registry is, so every client -- the CLI, a pipeline, curl -- meets it. The drill engine forces its
deliberately bad releases: a fault is injected on purpose.
"""

from __future__ import annotations

import hmac
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from model_service import metrics, promotion
from model_service.errors import ApiError, from_validation
from model_service.model_upload import UploadError, register_upload
from model_service.registry import RegistryError
from model_service.registry_files import CARD
from model_service.routes import asgi
from model_service.runtime_config import FLAG_NAMES, ConfigError, RuntimeConfig
from model_service.schemas import ConfigChange, DeployRequest, ErrorResponse, ModelUpload
from model_service.state import ServiceState

_ACTOR_RE = re.compile(r"^[A-Za-z0-9@._:-]{1,64}$")
# Registry changes run in a worker thread (below) and one at a time, as they did on the event loop.
_REGISTRY_CHANGES = threading.Lock()


async def _off_loop(work: Callable[[], Any]) -> Any:
    """Run blocking registry work in a worker thread, one change at a time.

    An upload imports scikit-learn, pandas and skops the first time (seconds of CPU) and a deploy reads and
    checks a version's files; on the event loop either stalled every /predict and every Prometheus scrape
    until it ended -- long enough, on a busy laptop, for the latency alerts the learner is practising on.
    """
    def locked() -> Any:
        with _REGISTRY_CHANGES:
            return work()

    return await run_in_threadpool(locked)


def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    token = request.app.state.svc.settings.admin_token
    if token is None:
        raise ApiError(403, "admin API is disabled: start the service with AIOPS_ADMIN_TOKEN set "
                       "(aiops-lab up does this for you)")
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "authorization: send 'Authorization: Bearer <token>' (the token is in "
                       "the lab's state dir: admin-token)", headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(authorization[7:].strip().encode(), token.encode()):
        raise ApiError(403, "authorization: the bearer token is wrong")


# The pattern is published in the OpenAPI schema (truthful to fuzzers and clients) but checked here, so
# the error keeps its plain-language message.
def actor(x_actor: Annotated[str | None, Header(description="Who made the change, recorded in the histories",
                                                json_schema_extra={"pattern": _ACTOR_RE.pattern})] = None) -> str:
    if x_actor is None:
        return "admin-api"
    if not _ACTOR_RE.match(x_actor):
        raise ApiError(422, "x-actor: use 1-64 letters, digits or @._:-")
    return x_actor


Actor = Annotated[str, Depends(actor)]
router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)],
                   responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
                              422: {"model": ErrorResponse}})


def _svc(request: Request) -> ServiceState:
    return request.app.state.svc


async def _body(request: Request, model: type) -> Any:
    asgi.require_json(request.scope)
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        raise from_validation(exc) from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _switch(svc: ServiceState, version: str, who: str, action: str, forced: bool = False) -> dict[str, Any]:
    """Load first, then move the pointer: a model that fails to load never becomes active."""
    try:
        svc.load_model(version)
        previous = svc.registry.activate(version, actor=who, action=action, forced=forced)
    except (RegistryError, OSError, ValueError) as exc:  # OSError/ValueError: a damaged reference sample
        raise ApiError(409 if action == "rollback" else 404, f"version: {_one_line(exc)}") from None
    metrics.MODEL_DEPLOYS.labels(action).inc()
    return {"active": version, "previous": previous, "action": action}


def _version_entry(svc: ServiceState, version: str) -> dict[str, Any]:
    """One version of the listing; ``problem`` names the damaged file of a version that cannot be served."""
    problem = svc.registry.problem(version)
    try:
        card = svc.registry.card(version)
    except RegistryError:  # the card itself is damaged: the listing still shows the version, and why
        stamp = datetime.fromtimestamp((svc.registry.root / version / CARD).stat().st_mtime, UTC)
        return {"version": version, "created_at": stamp.isoformat(), "description": "", "golden_mae": None,
                "golden_r2": None, "problem": problem}
    golden = card.metrics.get("golden")
    return {"version": version, "created_at": card.created_at.isoformat(), "description": card.description,
            "golden_mae": golden.mae if golden else None, "golden_r2": golden.r2 if golden else None,
            "problem": problem}


@router.get("/models", summary="Registered model versions with their evaluation metrics",
            responses={409: {"model": ErrorResponse}})
async def list_models(request: Request) -> dict[str, Any]:
    svc = _svc(request)
    try:
        active = svc.registry.active()
    except RegistryError as exc:  # a corrupt pointer: say which file and how to repair it
        raise ApiError(409, f"registry: {_one_line(exc)}") from None
    out = [_version_entry(svc, v) for v in svc.registry.versions()]
    return {"active": active, "versions": out, "history": svc.registry.history()[-20:]}


@router.post("/model/upload", status_code=201, summary="Register an uploaded model version (does not activate it)",
             responses={413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/ModelUpload"}}}}})
async def upload_model(request: Request, who: Actor) -> dict[str, Any]:
    upload = await _body(request, ModelUpload)
    svc = _svc(request)
    try:
        version = await _off_loop(lambda: register_upload(svc.registry, upload))
    except UploadError as exc:
        raise ApiError(422, f"{exc.field}: {exc}", [{"field": exc.field, "rule": "upload", "message": str(exc)}]
                       ) from None
    return {"version": version, "registered_by": who}


@router.post("/model/deploy", summary="Activate a registered version (hot swap, no restart)",
             responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse},
                        422: {"model": ErrorResponse}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/DeployRequest"}}}}})
async def deploy(request: Request, who: Actor,
                 force: Annotated[bool, Query(description="Skip the promotion gate (recorded in the history)")]
                 = False,
                 max_mae_increase: Annotated[float, Query(ge=0, le=10, description=promotion.MAX_MAE_INCREASE_HELP)]
                 = promotion.DEFAULT_MAX_MAE_INCREASE) -> dict[str, Any]:
    req = await _body(request, DeployRequest)
    svc = _svc(request)

    def gated_switch() -> dict[str, Any]:
        try:
            svc.registry.verify(req.version)  # a damaged version is a 404 naming the file, gate or no gate
            if not force:
                promotion.check(svc.registry, req.version, max_mae_increase)
        except promotion.PromotionRefused as exc:
            raise ApiError(409, f"version: {_one_line(exc)}") from None
        except RegistryError as exc:
            raise ApiError(404, f"version: {_one_line(exc)}") from None
        return _switch(svc, req.version, who, "deploy", forced=force)

    return await _off_loop(gated_switch)


@router.post("/model/rollback", summary="Re-activate the version that was active before this one",
             responses={409: {"model": ErrorResponse}})
async def rollback(request: Request, who: Actor) -> dict[str, Any]:
    svc = _svc(request)

    def switch_back() -> dict[str, Any]:
        try:
            target = svc.registry.rollback_target()
        except RegistryError as exc:
            raise ApiError(409, f"version: {exc}") from None
        return _switch(svc, target, who, "rollback")

    return await _off_loop(switch_back)


@router.get("/config", summary="Current runtime flags and what each one does")
async def get_config(request: Request) -> dict[str, Any]:
    current = _svc(request).config.current.model_dump()
    docs = {name: f.description for name, f in RuntimeConfig.model_fields.items()}
    return {"flags": current, "descriptions": docs}


# Registered before PUT /config/{flag} so that /config/history is matched as its own route
# (otherwise a wrong method there is answered as if "history" were a flag, with Allow: PUT).
@router.get("/config/history", summary="Every flag change: time, actor, reason, old -> new")
async def config_history(request: Request,
                         limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> dict[str, Any]:
    return {"changes": _svc(request).config.history(limit)}


@router.put("/config/{flag}", summary="Change one runtime flag (recorded in the history)",
            responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
            openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ConfigChange"}}}}})
async def set_config(request: Request, who: Actor,
                     flag: Annotated[str, Path(max_length=64, description=f"One of: {', '.join(FLAG_NAMES)}")]
                     ) -> dict[str, Any]:
    change = await _body(request, ConfigChange)
    svc = _svc(request)
    try:
        entry = svc.config.set(flag, change.value, actor=who, reason=change.reason)
    except ConfigError as exc:
        raise ApiError(exc.status, f"{exc.field}: {exc}" if not str(exc).startswith(exc.field) else str(exc),
                       [{"field": exc.field, "rule": "flag", "message": str(exc)}]) from None
    metrics.CONFIG_CHANGES.labels(flag).inc()
    svc.publish_flags()
    return entry
