"""Bounded request bodies for pure-ASGI middleware (the model service's and the pager's).

A declared Content-Length is checked up front; a chunked body is read up to the limit and then replayed
to the app -- an error raised from inside ``receive`` would surface as a 500 instead of a 413.
"""

from __future__ import annotations

from starlette.types import Message, Receive


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
