"""The pager's HTTP API: Alertmanager's webhook in, pages and the incident timeline out.

Endpoints answer quickly and never 500 on bad input: validation errors are 422s naming the field, a body
over the limit is a 413, and a database failure is a 503 (Alertmanager retries it, so nothing is lost).
Every POST needs the lab's bearer token (``labs.pager.auth``); every GET is open. A browser gets the same pages
as an inbox (``/``, ``/pages`` by content negotiation, ``/runbooks/<Name>``: ``labs.pager.inbox``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from aiops_core.api_docs import serve_docs_offline
from aiops_core.body_limit import BodyLimitMiddleware
from aiops_core.refused import Refused, auth_headers
from labs.pager import inbox, runbooks
from labs.pager.auth import require_token
from labs.pager.heartbeat import HeartbeatMonitor
from labs.pager.metrics import build_registry
from labs.pager.schemas import AckRequest, DrillRequest, WebhookPayload
from labs.pager.store import PagerStore

log = logging.getLogger("aiops.pager")
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


class PagerError(Exception):
    """A client-facing error: HTTP status plus a message that names the field or the fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _field(loc: Sequence[int | str]) -> str:
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path") else list(loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or (str(loc[0]) if loc else "body")


def parse_since(raw: str | None) -> float | None:
    """``since`` as unix seconds or ISO 8601 (a naive time is taken as UTC)."""
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise PagerError(422, f"since: expected an ISO 8601 time or unix seconds, got {raw!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _is_resolved_notification(body: bytes) -> bool:
    try:
        doc = json.loads(body) if body.strip() else None
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("status") == "resolved"


def create_app(db_path: Path, heartbeat_timeout_s: float = 120, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               check_interval_s: float | None = None, token: str | None = None,
               runbooks_dir: Path = runbooks.DEFAULT_DIR) -> FastAPI:
    """Build the pager. ``check_interval_s`` (default: a quarter of the timeout, 0.2-5 s) is how often the
    background task looks for a missing heartbeat between requests. ``token``: the bearer token every POST
    must carry (None: every POST is refused). ``runbooks_dir``: the Markdown the inbox links and renders."""
    store = PagerStore(db_path)
    lab_caller = [Depends(require_token(token))]
    monitor = HeartbeatMonitor(store, heartbeat_timeout_s)
    registry = build_registry(store, monitor)
    interval = check_interval_s or min(5.0, max(0.2, heartbeat_timeout_s / 4))

    def check_heartbeat() -> None:
        page_id = monitor.check()
        if page_id is not None:
            log.warning("watchdog heartbeat missing; paged", extra={"page_id": page_id,
                                                                   "timeout_s": heartbeat_timeout_s})

    async def watch() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(check_heartbeat)
            except Exception:  # keep watching; one failed check must not end the dead-man's switch
                log.exception("heartbeat check failed")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(watch())
        log.info("pager started", extra={"db": str(db_path), "heartbeat_timeout_s": heartbeat_timeout_s,
                                         "writes": "token required" if token else "disabled (no token)"})
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            store.close()
            log.info("pager stopped")

    app = FastAPI(title="aiops-lab pager", version="0.1.0", lifespan=lifespan,
                  description="Alertmanager webhook receiver: pages, incident timeline, Watchdog heartbeat.",
                  dependencies=[Depends(check_heartbeat)])
    serve_docs_offline(app)  # /docs and /redoc without a CDN
    app.state.store = store
    app.state.heartbeat = monitor

    @app.post("/alerts", summary="Alertmanager webhook (payload version 4)", dependencies=lab_caller)
    def receive_alerts(payload: WebhookPayload) -> dict[str, Any]:
        effects = store.record(payload, time.time())
        opened = [a for a, e in zip(payload.alerts, effects, strict=True) if e == "paged"]
        for alert in opened:
            log.info("page opened", extra={"alertname": alert.labels["alertname"], "fingerprint": alert.fingerprint,
                                           "severity": alert.labels.get("severity", "none")})
        return {"received": len(effects), "pages_opened": len(opened), "effects": effects}

    @app.get("/alerts/active", summary="Alerts currently firing, one per fingerprint")
    def active_alerts() -> list[dict[str, Any]]:
        return store.active_alerts()

    @app.post("/heartbeat", summary="Watchdog heartbeat (any body from a lab caller: Alertmanager sends its "
              "webhook payload)", dependencies=lab_caller)
    async def heartbeat(request: Request) -> dict[str, Any]:
        # A *resolved* Watchdog notification means Prometheus stopped sending the Watchdog: the opposite
        # of a heartbeat. It is not counted, so the timeout pages.
        if _is_resolved_notification(await request.body()):
            log.warning("resolved Watchdog notification: the alerting pipeline lost the Watchdog")
            return {**monitor.status(), "counted": False}
        await run_in_threadpool(monitor.beat)
        return {**monitor.status(), "counted": True}

    @app.get("/heartbeat", summary="When the last Watchdog heartbeat arrived, and whether that is recent enough")
    def heartbeat_status() -> dict[str, Any]:
        return monitor.status()

    @app.get("/pages", summary="Pages (one per firing episode) with their timelines, newest first",
             description="JSON; a browser (``Accept`` naming text/html first) gets the inbox page instead.")
    def pages(request: Request,
              since: Annotated[str | None, Query(description="ISO 8601 time or unix seconds")] = None,
              status: Literal["firing", "resolved"] | None = None,
              alertname: Annotated[str | None, Query(max_length=256)] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
        found = store.pages(since=parse_since(since), status=status, alertname=alertname, limit=limit)
        if inbox.wants_html(request):
            return inbox.inbox_page(request, found, monitor.status(), store.current_drill(), status, alertname)
        return found

    @app.get("/", summary="The inbox: pages, runbook links and the heartbeat, for a browser (HTML)",
             response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        return inbox.inbox_page(request, store.pages(limit=100), monitor.status(), store.current_drill(), None, None)

    @app.get("/runbooks/{name:path}", summary="A runbook from runbooks/, rendered as HTML",
             response_class=HTMLResponse)
    def runbook(request: Request, name: str) -> HTMLResponse:
        return inbox.runbook_page(request, name, runbooks_dir)

    @app.get("/dashboards", summary="The Grafana dashboards drawn without Grafana (aiops-lab dashboard render)",
             response_class=HTMLResponse)
    def dashboards(request: Request) -> HTMLResponse:
        return inbox.dashboards_page(request)

    @app.get("/dashboards/{name}", summary="One dashboard as drawn by aiops-lab dashboard render NAME",
             response_class=HTMLResponse)
    def dashboard(name: str) -> HTMLResponse:
        page = inbox.dashboard_file(name)
        if page is None:
            known = ", ".join(inbox.dashboard_names())
            raise PagerError(404, f"name: no drawn dashboard {name!r} (dashboards: {known}); "
                             f"draw it with: aiops-lab dashboard render NAME")
        return page

    @app.post("/pages/ack", summary="Acknowledge the pages of a fingerprint or alert name", dependencies=lab_caller)
    def ack(body: AckRequest) -> list[dict[str, Any]]:
        acked = store.ack(body.target, body.by, time.time())
        if not acked:
            raise PagerError(404, f"target: no page for fingerprint or alertname {body.target!r}; "
                             "list pages with: aiops-lab pager list")
        return acked

    @app.get("/events", summary="The raw notification log, oldest first")
    def events(since: Annotated[str | None, Query(description="ISO 8601 time or unix seconds")] = None,
               limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict[str, Any]]:
        return store.events(since=parse_since(since), limit=limit)

    @app.post("/drill", summary="Set the running drill (null: none); exported as aiops_pager_drill_info",
              dependencies=lab_caller)
    def set_drill(body: DrillRequest) -> dict[str, Any]:
        store.set_drill(body.drill, time.time())
        log.info("drill set", extra={"drill": body.drill})
        return {"drill": store.current_drill()}

    @app.get("/drill", summary="The running drill, if any")
    def get_drill() -> dict[str, Any]:
        return {"drill": store.current_drill()}

    @app.get("/healthz", summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", summary="Prometheus metrics (aiops_pager_*)")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(PagerError)
    async def _pager_error(_: Request, exc: PagerError) -> JSONResponse:
        return JSONResponse({"error": exc.message, "details": []}, status_code=exc.status)

    @app.exception_handler(Refused)
    async def _refused(_: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"error": exc.message, "details": []}, status_code=exc.status, headers=auth_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": "body" if e.get("type") == "json_invalid" else _field(e.get("loc", ())),
                    "rule": e.get("type", ""), "message": e.get("msg", "")} for e in exc.errors()]
        first = details[0] if details else {"field": "body", "message": "invalid"}
        more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        return JSONResponse({"error": f"{first['field']}: {first['message']}{more}", "details": details},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": f"{request.url.path}: {exc.detail}", "details": []},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(sqlite3.Error)
    async def _db_error(_: Request, exc: sqlite3.Error) -> JSONResponse:
        log.error("database error", extra={"error": str(exc)})
        return JSONResponse({"error": f"pager database unavailable ({exc}); the sender should retry",
                             "details": []}, status_code=503)

    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    return app

