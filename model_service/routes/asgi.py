"""Plain-ASGI plumbing for the hot routes: served ahead of the router, the body from ``receive``, a JSON
answer to ``send``.

Under py-spy (issue 18), a single-row /predict spent ~5 % in Starlette's ``request_response`` (a Request, a
Response object and an exception-handling closure per request) and ~10 % more in the layers between the
observability middleware and the endpoint: Starlette's ExceptionMiddleware, FastAPI's AsyncExitStack
middleware and the router. The handlers in ``predict.py`` need none of it -- no dependencies, no Request --
so ``DirectRoutes`` serves them right below the observability middleware (request id, body limit, RED
metrics, access log: every request still passes there).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aiops_core import media_types
from model_service.errors import ApiError

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


async def read_body(receive: Receive) -> bytes:
    """The whole request body (the middleware already bounded its size), as ``Request.body()`` reads it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def require_json(scope: Scope) -> None:
    """A 415 for a body labelled as something other than JSON (``aiops_core.media_types`` says what passes).

    Checked before the body is read; one scan of the few raw headers (~1 us measured with five headers on
    the loaded 2-core CI box, where a single-row /predict takes some hundreds).
    """
    value = media_types.header_value(scope["headers"])
    if value is not None and value != b"application/json" and (message := media_types.problem(value)):
        raise ApiError(415, message, [{"field": "content-type", "rule": "unsupported_media_type",
                                       "message": f"expected {media_types.EXPECTED}"}])


async def send_json(send: Send, body: str) -> None:
    """A 200 with a JSON body, the headers Starlette's Response would send."""
    payload = body.encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(payload)).encode()), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


async def as_response(app: Any, request: Request) -> Response:
    """Run an ASGI handler for a FastAPI route (the documented twins), collecting what it sends."""
    sent: list[Message] = []

    async def collect(message: Message) -> None:
        sent.append(message)

    await app(request.scope, request.receive, collect)
    start, body = sent
    return Response(body["body"], start["status"], media_type="application/json")


class DirectRoutes:
    """Pure-ASGI middleware: ``routes[(method, path)]`` answers that request itself; the router gets the rest.

    A handler's ``ApiError`` gets the answer the app's exception handler gives (``ApiError.response``); any
    other exception propagates to ServerErrorMiddleware (the app's 500 handler), as it would have through the
    skipped layers, none of which handles it.
    """

    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], Handler]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        if handler is None:
            await self.app(scope, receive, send)
            return
        try:
            await handler(scope, receive, send)
        except ApiError as exc:
            await exc.response()(scope, receive, send)
