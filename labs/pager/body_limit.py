"""Refuse request bodies over a size limit with a 413, before anything parses them.

Pure ASGI: the body is buffered up to the limit (pager payloads are small) and replayed to the app, so a
chunked upload without ``Content-Length`` is bounded too.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from model_service.body_limit import BodyTooLarge, bounded_receive


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = next((v for n, v in scope["headers"] if n == b"content-length"), None)
        try:
            bounded = await bounded_receive(receive, self.max_body, length)
        except (BodyTooLarge, ValueError):
            await self._too_large(send)
            return
        if bounded is not None:  # None: the client went away mid-body
            await self.app(scope, bounded, send)

    async def _too_large(self, send: Send) -> None:
        payload = json.dumps({"error": f"body: larger than the {self.max_body}-byte limit", "details": []}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})
