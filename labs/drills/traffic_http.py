"""A lean asyncio HTTP/1.1 keep-alive client for the drill's background traffic (``labs.drills.traffic``).

Why not httpx, the lab's client everywhere else (``aiops_core.http``): the traffic process sends ~27
requests a second for every running drill (8 predictions, ~19 label posts), and httpx's AsyncClient costs
~1 ms of client CPU per request on the lab's 2-core machine, this client ~0.09 ms (measured against the
same running service, same body, 2,000 requests each, alternating: 970 and 1,045 µs against 90 and 95 µs).
That millisecond was ~3 % of a core per drill on the learner's laptop, taken from the service the traffic
is meant to load, and ~160 CPU-seconds of a test-suite run. Locust ships ``FastHttpUser`` for the same
reason.

Scope, deliberately small: plain ``http://``, POST with a body, responses framed by Content-Length, chunked
encoding or the connection's end. Connections are reused (most recently used first) and dropped once idle
for ``idle_s`` -- below uvicorn's 5 s keep-alive, so the server rarely closes one under us; when it does,
a request that got no byte of answer on a reused connection is sent once more on a new one. Anything
else that goes wrong -- refused, reset, a reply that is not HTTP -- is ``ConnectionFailed``; no answer
within ``timeout`` is ``RequestTimeout``, and that connection is closed, never reused mid-reply.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IDLE_S = 4.0  # uvicorn closes an idle keep-alive connection after 5 s
HEADER_LIMIT = 100  # header lines; more is not a reply from the lab's service


class ConnectionFailed(Exception):
    """No usable reply: refused, reset, closed early, or not HTTP (the message says which)."""


class RequestTimeout(Exception):
    """No complete reply within the client's timeout."""


class _NoReply(Exception):
    """The connection ended before the first byte of a reply (a keep-alive connection the server closed)."""


@dataclass(frozen=True)
class Response:
    status_code: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self, now: float, idle_s: float) -> bool:
        return (now - self.idle_since < idle_s and not self.reader.at_eof()
                and not self.writer.transport.is_closing())

    def close(self) -> None:
        self.writer.transport.abort()  # no FIN handshake to wait for: the reply is unwanted or already read


class Http1Client:
    """POST to one ``http://host:port`` with up to ``max_connections`` requests in flight."""

    def __init__(self, base_url: str, timeout: float, max_connections: int, idle_s: float = IDLE_S) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"the drill's traffic speaks plain HTTP to the lab's service; got {base_url!r}")
        self.host, self.port = url.hostname, url.port or 80
        self.prefix = url.path.rstrip("/")
        self.timeout, self.idle_s = timeout, idle_s
        self._host_header = url.netloc.encode("ascii")
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: collections.deque[_Connection] = collections.deque()

    async def __aenter__(self) -> Http1Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def post(self, path: str, content: bytes, content_type: str = "application/json") -> Response:
        request = b"".join((b"POST ", (self.prefix + path).encode("ascii"), b" HTTP/1.1\r\nhost: ",
                            self._host_header, b"\r\ncontent-type: ", content_type.encode("ascii"),
                            b"\r\ncontent-length: ", str(len(content)).encode("ascii"), b"\r\n\r\n", content))
        async with self._slots:
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._exchange(request)
            except TimeoutError:
                raise RequestTimeout(f"no reply within {self.timeout:g} s") from None

    async def post_json(self, path: str, body: Any) -> Response:
        return await self.post(path, json.dumps(body).encode())

    def _reuse(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()  # most recently used: the likeliest to be alive
            if conn.usable(now, self.idle_s):
                return conn
            conn.close()
        return None

    async def _connect(self) -> _Connection:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise ConnectionFailed(f"connect to {self.host}:{self.port}: {exc.strerror or exc}") from None
        return _Connection(reader, writer)

    async def _exchange(self, request: bytes) -> Response:
        conn = self._reuse()
        reused = conn is not None
        while True:
            if conn is None:
                conn = await self._connect()
            try:
                conn.writer.write(request)
                status, content, keep = await _read_reply(conn.reader)
            except _NoReply:
                conn.close()
                if reused:  # the server closed it while idle: once more, on a new connection
                    conn, reused = None, False
                    continue
                raise ConnectionFailed("the connection closed without a reply") from None
            except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                conn.close()
                raise ConnectionFailed(f"{type(exc).__name__}: {exc}") from None
            except BaseException:  # timed out or cancelled mid-reply: the connection's state is unknown
                conn.close()
                raise
            if keep:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            else:
                conn.close()
            return Response(status, content)


async def _read_reply(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep-alive) of one reply; ValueError when it is not HTTP/1.x."""
    line = await reader.readline()
    if not line:
        raise _NoReply
    version, _, rest = line.partition(b" ")
    if not version.startswith(b"HTTP/1.") or not line.endswith(b"\n"):
        raise ValueError(f"not an HTTP/1.x status line: {line[:60]!r}")
    status = int(rest[:3])
    keep = version != b"HTTP/1.0"
    length: int | None = None
    chunked = False
    for _ in range(HEADER_LIMIT):
        line = await reader.readline()
        if line in (b"\r\n", b"\n"):
            break
        if not line.endswith(b"\n"):
            raise ValueError("the reply ended inside its headers")
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep = b"close" not in value.lower() if keep else b"keep-alive" in value.lower()
    else:
        raise ValueError(f"more than {HEADER_LIMIT} header lines")
    if chunked:
        return status, await _read_chunks(reader), keep
    if length is not None:
        if length < 0:
            raise ValueError(f"negative content-length {length}")
        return status, await reader.readexactly(length), keep
    if status in (204, 304) or 100 <= status < 200:
        return status, b"", keep
    return status, await reader.read(), False  # framed by the connection's end


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readline()).split(b";", 1)[0].strip() or b"x", 16)  # "x": ValueError at EOF
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)  # the CRLF after each chunk
