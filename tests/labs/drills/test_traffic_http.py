"""The drill traffic's HTTP/1.1 client against real loopback servers that reply in each way it must handle.

Each server is a real asyncio TCP server on a free 127.0.0.1 port, scripted per test, so the framing, the
keep-alive reuse and the failure cases are what went over a socket. The client against the real model
service is in tests/model_service/integration/test_predict_api.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from labs.drills.traffic_http import ConnectionFailed, Http1Client, RequestTimeout

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[bool]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes], bytes]:
    start = await reader.readline()
    headers: dict[bytes, bytes] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return start, headers, body


class Server:
    """Serves ``handler`` (which returns False to close the connection) and records what it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[tuple[bytes, dict[bytes, bytes], bytes]] = []

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                request = await _read_request(reader)
                if not request[0]:
                    return
                self.requests.append(request)
                if not await self.handler(reader, writer, len(self.requests)):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


def _reply(writer: asyncio.StreamWriter, body: bytes, status: str = "200 OK", extra: str = "") -> None:
    writer.write(f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\n{extra}\r\n".encode() + body)


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
    _reply(writer, b'{"n": %d}' % n)
    await writer.drain()
    return True


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))  # type: ignore[arg-type]


def test_sends_a_well_formed_post_and_reuses_one_connection() -> None:
    async def main() -> None:
        async with Server(_echo) as srv, Http1Client(srv.url + "/", timeout=5, max_connections=8) as client:
            answers = [await client.post_json("/predict", {"x": i}) for i in range(20)]
        assert [a.json()["n"] for a in answers] == list(range(1, 21))
        assert all(a.status_code == 200 for a in answers)
        assert srv.connections == 1  # one after another: the same keep-alive connection
        start, headers, body = srv.requests[3]
        assert start == b"POST /predict HTTP/1.1\r\n"
        assert headers[b"host"] == srv.url.removeprefix("http://").encode()
        assert headers[b"content-type"] == b"application/json" and body == b'{"x": 3}'
    run(main())


def test_concurrent_requests_open_connections_up_to_the_cap_and_each_gets_its_own_answer() -> None:
    async def slow_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        body = srv.requests[n - 1][2]
        await asyncio.sleep(0.05)
        _reply(writer, body)
        return True

    async def main() -> None:
        nonlocal srv
        async with Server(slow_echo) as srv, Http1Client(srv.url, timeout=5, max_connections=6) as client:
            answers = await asyncio.gather(*(client.post_json("/p", {"i": i}) for i in range(30)))
        assert [a.json()["i"] for a in answers] == list(range(30))
        assert srv.connections == 6  # capped: the other 24 waited for a free connection
    srv: Server
    run(main())


@pytest.mark.parametrize("framing", ["chunked", "close-delimited", "http/1.0"])
def test_reads_every_framing_and_closes_when_the_server_says_so(framing: str) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        if framing == "chunked":
            writer.write(b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n"
                         b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n")
            return True
        if framing == "close-delimited":
            writer.write(b"HTTP/1.1 201 Created\r\n\r\nhello world")
        else:
            writer.write(b"HTTP/1.0 201 Created\r\ncontent-length: 11\r\n\r\nhello world")
        await writer.drain()
        return False

    async def main() -> None:
        async with Server(handler) as srv, Http1Client(srv.url, timeout=5, max_connections=4) as client:
            for _ in range(3):
                resp = await client.post("/x", b"{}")
                assert (resp.status_code, resp.content) == (201, b"hello world")
        assert srv.connections == (1 if framing == "chunked" else 3)
    run(main())


def test_a_connection_the_server_closed_while_idle_is_replaced_without_losing_the_request() -> None:
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        _reply(writer, b"ok")  # says nothing about closing, then closes: what an idle keep-alive timeout does
        await writer.drain()
        return False

    async def main() -> None:
        async with Server(once) as srv, Http1Client(srv.url, timeout=5, max_connections=4) as client:
            for _ in range(5):
                assert (await client.post("/x", b"{}")).content == b"ok"
        assert len(srv.requests) == 5 and srv.connections == 5  # each request on a new one, none lost
    run(main())


def test_a_reused_connection_that_died_unseen_is_retried_once_on_a_new_one() -> None:
    """The server's close races the next request: the client takes the connection as alive (here: told so),
    gets no byte of reply, and sends the request once more on a new connection -- answered exactly once."""
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        _reply(writer, b"ok")
        await writer.drain()
        return False

    async def main() -> None:
        async with Server(once) as srv, Http1Client(srv.url, timeout=5, max_connections=4) as client:
            assert (await client.post("/x", b"{}")).content == b"ok"
            conn = client._idle[0]
            deadline = time.monotonic() + 10
            while not conn.reader.at_eof() and time.monotonic() < deadline:  # the server's close arrives
                await asyncio.sleep(0.01)
            assert conn.reader.at_eof()
            conn.usable = lambda now, idle_s: True  # type: ignore[method-assign]  # the race, made certain
            assert (await client.post("/x", b"{}")).content == b"ok"
        assert len(srv.requests) == 2 and srv.connections == 2
    run(main())


def test_idle_connections_older_than_idle_s_are_not_reused() -> None:
    async def main() -> None:
        async with Server(_echo) as srv, Http1Client(srv.url, timeout=5, max_connections=4, idle_s=0.2) as client:
            await client.post("/x", b"{}")
            await client.post("/x", b"{}")
            await asyncio.sleep(0.3)
            await client.post("/x", b"{}")
        assert srv.connections == 2
    run(main())


def test_no_reply_in_time_is_a_timeout_and_that_connection_is_never_reused() -> None:
    async def hang_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        if n == 1:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\npart")  # then nothing more
            await asyncio.sleep(5)
            return False
        return await _echo(reader, writer, n)

    async def main() -> None:
        async with Server(hang_first) as srv, Http1Client(srv.url, timeout=0.3, max_connections=4) as client:
            started = time.monotonic()
            with pytest.raises(RequestTimeout, match=r"no reply within 0\.3 s"):
                await client.post("/x", b"{}")
            assert time.monotonic() - started < 3
            assert (await client.post("/x", b"{}")).json() == {"n": 2}  # a fresh connection, whole answer
        assert srv.connections == 2
    run(main())


@pytest.mark.parametrize(("reply", "reason"), [
    (b"SSH-2.0-OpenSSH_9.2\r\n", "not an HTTP/1.x status line"),
    (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", "IncompleteReadError"),
    (b"HTTP/1.1 200 OK\r\ncontent-length: ten\r\n\r\n", "invalid literal"),
    (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", "invalid literal"),
    (b"HTTP/1.1 200 OK\r\ncontent-le", "ended inside its headers"),
    (b"", "closed without a reply"),
])
def test_what_is_not_a_whole_http_reply_is_a_connection_failure(reply: bytes, reason: str) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        writer.write(reply)
        await writer.drain()
        return False

    async def main() -> None:
        async with Server(handler) as srv, Http1Client(srv.url, timeout=5, max_connections=4) as client:
            with pytest.raises(ConnectionFailed, match=reason):
                await client.post("/x", b"{}")
    run(main())


def test_a_refused_connection_is_a_connection_failure_and_https_is_refused_up_front() -> None:
    async def main() -> None:
        srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        srv.close()
        await srv.wait_closed()
        async with Http1Client(f"http://127.0.0.1:{port}", timeout=5, max_connections=4) as client:
            with pytest.raises(ConnectionFailed, match=f"connect to 127.0.0.1:{port}"):
                await client.post("/x", b"{}")
    run(main())
    with pytest.raises(ValueError, match="plain HTTP"):
        Http1Client("https://127.0.0.1:8000", timeout=5, max_connections=4)
