"""The drift monitor's HTTP face: health, Prometheus metrics, the reports and a "run now" trigger.

GET  /healthz               200 while the process serves; the last run's outcome and reason
GET  /metrics               the aiops_drift_* / aiops_quality_* gauges (Prometheus text format)
GET  /reports               HTML index of the kept reports, newest first
GET  /reports/index.json    the same as JSON (each entry is a run summary)
GET  /reports/{file}        one report (Evidently HTML or JSON)
POST /run                   run now and return the summary (waits for a run already in progress); needs
                            the lab's bearer token (AIOPS_ADMIN_TOKEN, else <state>/admin-token): a run
                            takes CPU and writes a report, so anonymous callers may not trigger it
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from aiops_core.api_docs import serve_docs_offline
from aiops_core.runstate import admin_token
from monitoring.drift import index_page
from monitoring.drift import metrics as drift_metrics
from monitoring.drift.monitor import Monitor


def require_token(token: str | None) -> Callable[..., None]:
    """Let ``POST /run`` through only with ``Authorization: Bearer <the lab's token>``."""

    def check(authorization: Annotated[str | None, Header()] = None) -> None:
        if token is None:
            raise HTTPException(403, "POST /run is disabled: the drift monitor has no token to check callers "
                                "against; start it with AIOPS_ADMIN_TOKEN set (aiops-lab up does this for you)")
        if not authorization or not authorization.lower().startswith("bearer "):
            raise HTTPException(401, "authorization: POST /run accepts only the lab's own callers: send "
                                "'Authorization: Bearer <token>'; the token is in the lab's state dir, file "
                                "admin-token (aiops-lab up writes it)",
                                headers={"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(authorization[7:].strip().encode(), token.encode()):
            raise HTTPException(403, "authorization: the bearer token is wrong for POST /run; the token is in "
                                "the lab's state dir, file admin-token")

    return check


def create_app(monitor: Monitor, token: str | None = None) -> FastAPI:
    """``token``: what ``POST /run`` must carry; by default the lab's (``aiops_core.runstate.admin_token``)."""
    token = token or admin_token()
    app = FastAPI(title="aiops-lab drift monitor", version="1",
                  description="Evidently drift and model-quality monitoring of the prediction log.")
    serve_docs_offline(app)  # /docs and /redoc without a CDN
    app.state.monitor = monitor

    @app.get("/healthz", summary="Liveness, with the last run's outcome")
    def healthz() -> JSONResponse:
        last = monitor.last
        return JSONResponse({
            "status": "ok",
            "interval_s": monitor.settings.interval_s,
            "last_run": None if last is None else {
                "outcome": last.outcome, "reason": last.reason, "started_at": last.started_at,
                "duration_seconds": last.duration_seconds, "model_version": last.model_version,
                "rows": last.window.rows},
        })

    @app.get("/metrics", summary="Prometheus metrics of the last run")
    def metrics() -> Response:
        return Response(generate_latest(drift_metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/reports")

    @app.get("/reports", response_class=HTMLResponse, summary="Index of the kept reports, newest first")
    def reports_index() -> HTMLResponse:
        return HTMLResponse(index_page.render(monitor.reports.entries(), monitor.last))

    @app.get("/reports/index.json", summary="Index of the kept reports as JSON, newest first")
    def reports_index_json() -> JSONResponse:
        return JSONResponse({"reports": [e.model_dump(mode="json") for e in monitor.reports.entries()],
                             "last_run": None if monitor.last is None else monitor.last.model_dump(mode="json")})

    @app.get("/reports/{name}", summary="One report file (HTML or JSON)")
    def report_file(name: str) -> FileResponse:
        path = monitor.reports.path(name)
        if path is None:
            raise HTTPException(404, f"name: no report called {name!r}; see /reports/index.json")
        media = "text/html; charset=utf-8" if name.endswith(".html") else "application/json"
        return FileResponse(path, media_type=media)

    @app.post("/run", summary="Run the monitor now and return the run summary (needs the lab's token)",
              dependencies=[Depends(require_token(token))])
    def run_now() -> JSONResponse:
        summary = monitor.run_once()
        return JSONResponse(summary.model_dump(mode="json"))

    return app
