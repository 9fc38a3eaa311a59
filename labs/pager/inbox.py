"""The pager as an inbox for people: ``/`` and ``/pages`` in a browser, server-rendered, no JavaScript.

``/pages`` keeps answering JSON to its clients (the CLI, the drill engine, ``pager watch``, curl, all of
which send ``Accept: */*`` or ``application/json``); a browser, whose ``Accept`` names ``text/html`` ahead of
JSON, gets this page instead. It shows each page firing or resolved, its severity, its age in words, the
alert's summary, a link to its runbook rendered by the pager itself (``runbooks.py``), who acknowledged it
and when, and the Watchdog heartbeat; it reloads itself every ``REFRESH_S`` seconds (a meta refresh).

Acknowledging from the browser is deliberately *not* a button. Every write to the pager needs the lab's
token (``auth.py``): it is what keeps anything that can reach the port from acknowledging or resolving a
page. A form would have to carry a secret in a page that every open GET can read, which hands that power
back to any local process; so the inbox shows the exact ``aiops-lab pager ack`` command (the CLI reads the
token from the state dir), and the acknowledgement it records appears here on the next refresh.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from aiops_core import paths
from aiops_core.durations import spoken
from labs.pager import runbooks

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
REFRESH_S = 10
HIDDEN_LABELS = frozenset({"alertname", "severity"})


def _quality(media_range: str) -> tuple[str, float]:
    kind, *params = (part.strip() for part in media_range.split(";"))
    q = 1.0
    for param in params:
        key, _, value = param.partition("=")
        if key.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
    return kind.lower(), q


def wants_html(request: Request) -> bool:
    """Does the client name HTML explicitly and rank it above JSON? ``*/*`` alone means JSON (API clients)."""
    accepted = dict(_quality(r) for r in request.headers.get("accept", "").split(",") if r.strip())
    html = accepted.get("text/html", 0.0)
    return html > accepted.get("application/json", 0.0)  # a tie keeps the API answer: JSON


def _utc(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _view(page: dict[str, Any], now: float) -> dict[str, Any]:
    resolved, acked = page.get("resolved_at"), page.get("acked_at")
    return {
        **page,
        "age": spoken(now - page["paged_at"]),
        "paged_utc": _utc(page["paged_at"]),
        "resolved_age": None if resolved is None else spoken(now - resolved),
        "lasted": None if resolved is None else spoken(resolved - page["paged_at"]),
        "resolved_utc": _utc(resolved),
        "acked_age": None if acked is None else spoken(now - acked),
        "acked_utc": _utc(acked),
        "runbook_href": runbooks.href(page.get("runbook_url", "")),
        "other_labels": {k: v for k, v in sorted(page["labels"].items()) if k not in HIDDEN_LABELS},
        "timeline_view": [{**ev, "utc": _utc(ev["at"])} for ev in page.get("timeline", [])],
    }


def _heartbeat_view(status: dict[str, Any]) -> dict[str, Any]:
    age = status.get("age_seconds")
    if status.get("last_seen") is None:
        state, text = "unknown", "no Watchdog heartbeat received yet (Alertmanager sends one within a minute)"
    elif status.get("healthy"):
        state, text = "ok", f"Watchdog heartbeat received {spoken(age or 0)} ago"
    else:
        state, text = "missing", (f"Watchdog heartbeat MISSING: last one {spoken(age or 0)} ago "
                                  f"(timeout {status['timeout_seconds']:g} s) -- alerts may not reach you")
    return {"state": state, "text": text}


def inbox_page(request: Request, pages: list[dict[str, Any]], heartbeat: dict[str, Any],
               drill: dict[str, Any] | None, status: str | None, alertname: str | None) -> HTMLResponse:
    now = time.time()
    views = [_view(p, now) for p in pages]
    return TEMPLATES.TemplateResponse(request, "inbox.html", {
        "pages": views, "firing": sum(p["status"] == "firing" for p in views), "heartbeat": _heartbeat_view(heartbeat),
        "drill": drill, "status": status, "alertname": alertname, "refresh_s": REFRESH_S, "now_utc": _utc(now)})


def runbook_page(request: Request, name: str, root: Path = runbooks.DEFAULT_DIR) -> HTMLResponse:
    """A runbook as HTML; 404 naming the name when there is no such file."""
    try:
        title, body = runbooks.render(name, root)
    except runbooks.RunbookNotFound as exc:
        return TEMPLATES.TemplateResponse(request, "runbook.html", {"title": "Runbook not found", "body": None,
                                                                   "error": str(exc)}, status_code=404)
    return TEMPLATES.TemplateResponse(request, "runbook.html", {"title": title, "body": body, "error": None})


def dashboard_names() -> list[str]:
    """The dashboards there are (the Grafana JSON files' stems): the only names ``/dashboards/<name>`` serves."""
    return sorted(p.stem for p in paths.dashboards_source_dir().glob("*.json"))


def dashboards_page(request: Request) -> HTMLResponse:
    """The dashboards drawn without Grafana by ``aiops-lab dashboard render``: a link to each rendered page with
    its age, and the command that (re)draws it. The pager draws nothing itself: rendering queries Prometheus
    and plots, which is the CLI's job; the pages are static snapshots the learner refreshes on purpose."""
    now = time.time()
    rows = []
    for name in dashboard_names():
        page = paths.rendered_dashboards_dir() / f"{name}.html"
        drawn = page.stat().st_mtime if page.is_file() else None
        rows.append({"name": name, "age": spoken(now - drawn) if drawn else None,
                     "utc": _utc(drawn) if drawn else None})
    return TEMPLATES.TemplateResponse(request, "dashboards.html", {"rows": rows})


def dashboard_file(name: str) -> HTMLResponse | None:
    """A rendered dashboard page (self-contained HTML), or None when NAME is unknown or not drawn yet."""
    if name not in dashboard_names():
        return None
    page = paths.rendered_dashboards_dir() / f"{name}.html"
    return HTMLResponse(page.read_text()) if page.is_file() else None
