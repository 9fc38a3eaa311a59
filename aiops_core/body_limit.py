"""Bounded request bodies for pure-ASGI middleware: every FastAPI app of the lab refuses an oversized body
with a 413 before anything parses it.

A declared Content-Length is checked up front; a chunked body is read up to the limit and then replayed
to the app -- an error raised from inside ``receive`` would surface as a 500 instead of a 413.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    def __init__(self, size: int, declared: bool) -> None:
        super().__init__(f"request body {'is' if declared else 'is at least'} {size} bytes")
        self.size = size


async def bounded_receive(receive: Receive, limit: int, content_length: bytes | None) -> Receive | None:
    """A ``receive`` that replays the (bounded) body; None when the client disconnected while sending.

    Raises ``BodyTooLarge`` when the declared or the received size passes ``limit``, and ``ValueError`` for
    a Content-Length that is not a number.
    """
    if content_length is not None:
        declared = int(content_length)
        if declared > limit:
            raise BodyTooLarge(declared, declared=True)
        return receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            raise BodyTooLarge(size, declared=False)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class BodyLimitMiddleware:
    """The whole middleware, for apps that need nothing else (pager, traffic feed); the model service inlines
    ``bounded_receive`` into its single pure-ASGI middleware to keep one pass per request."""

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
