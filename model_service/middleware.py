"""One pure-ASGI middleware for what every request needs: request id, body limit, RED metrics, access log.

Pure ASGI rather than ``BaseHTTPMiddleware`` because the latter costs a task and a stream per request,
which is most of the budget of a 5-term dot product.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aiops_core.body_limit import BodyTooLarge, bounded_receive
from model_service import metrics
from model_service.access_log import AccessLog
from model_service.state import IdGenerator

log = logging.getLogger("aiops.access")

_EXACT_ROUTES = {r: r for r in metrics.ROUTES if r not in ("/admin", "other")}
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def route_label(path: str) -> str:
    """Bounded route label: known templates only, everything else is "other"."""
    hit = _EXACT_ROUTES.get(path)
    if hit is not None:
        return hit
    if path.startswith("/admin/"):
        return "/admin"
    return "other"


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()), *headers]})
    await send({"type": "http.response.body", "body": payload})


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, access_log: str = "all",
                 writer: AccessLog | None = None) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.access_log = access_log if writer is not None else "off"
        self.writer = writer
        self.ids = IdGenerator()
        self._counters: dict[tuple[str, str, str], Any] = {}
        self._histograms = {r: metrics.HTTP_DURATION.labels(r) for r in metrics.ROUTES}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope["path"]
        route = route_label(path)
        method = scope["method"]
        request_id = None
        length = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID_RE.match(candidate):
                    request_id = candidate
            elif name == b"content-length":
                length = value
        if request_id is None:
            request_id = self.ids.next()
        scope.setdefault("state", {})["request_id"] = request_id
        rid_header = (b"x-request-id", request_id.encode())
        status_holder = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message["headers"] = [*message.get("headers", []), rid_header]
            await send(message)

        metrics.HTTP_IN_FLIGHT.inc()
        try:
            too_big, bounded = await self._limit_body(scope, receive, length)
            if too_big is not None:
                status_holder[0] = 413
                metrics.VALIDATION_ERRORS.labels("body").inc()
                await _send_json(send, 413, too_big, [rid_header])
            elif bounded is None:  # the client went away mid-body: nothing to answer
                status_holder[0] = 499
            else:
                await self.app(scope, bounded, send_wrapper)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id, "path": path})
            raise
        finally:
            metrics.HTTP_IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            status = str(status_holder[0])
            key = (route, method, status)
            counter = self._counters.get(key)
            if counter is None:
                counter = self._counters[key] = metrics.HTTP_REQUESTS.labels(route, method, status)
            counter.inc()
            self._histograms[route].observe(elapsed)
            if self.access_log == "all" or (self.access_log == "errors" and status_holder[0] >= 400):
                self.writer.record(request_id, method, path, route, status_holder[0], elapsed)  # type: ignore[union-attr]

    async def _limit_body(self, scope: Scope, receive: Receive,
                          length: bytes | None) -> tuple[dict[str, Any] | None, Receive | None]:
        """Refuse bodies over the limit with 413: by header when declared, by reading when chunked.

        A chunked body is buffered (at most limit + one chunk) and replayed to the app, because an
        error raised from inside ``receive`` would surface as a 500 instead of a 413.
        """
        if length is None and scope["method"] not in ("POST", "PUT", "PATCH"):
            return None, receive
        try:
            bounded = await bounded_receive(receive, self.max_body, length)
        except BodyTooLarge as exc:
            return _too_big(str(exc), self.max_body), receive
        except ValueError:
            return _too_big("Content-Length is not a number", self.max_body), receive
        return None, bounded


def _too_big(what: str, limit: int) -> dict[str, Any]:
    return {"error": f"body: {what}; the limit is {limit} bytes (send smaller batches)",
            "details": [{"field": "body", "rule": "max_bytes", "message": f"at most {limit} bytes"}]}
