"""The lab's uvicorn server: a once-a-second tick while idle, yet a prompt stop, and the same Date header."""

from __future__ import annotations

import contextlib
import email.utils
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from aiops_core import http as lab_http
from aiops_core import uvicorn_server
from aiops_core.polling import wait_until
from aiops_core.uvicorn_server import QuietServer
from tests.support.ports import free_port
from tests.support.processes import lab_env, start_http_process
from tests.support.speed import scaled


async def _app(scope: dict, receive: object, send: object) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _serve(server: uvicorn.Server) -> threading.Thread:
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=scaled(20), what="the server to start")
    return thread


def test_a_stop_request_wakes_the_loop_at_once_instead_of_waiting_for_a_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the tick an hour long, only ``handle_exit`` waking the loop can stop the server in time."""
    monkeypatch.setattr(uvicorn_server, "TICK_S", 3600.0)
    port = free_port()
    server = QuietServer(uvicorn.Config(_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]  # not the main thread
    thread = _serve(server)
    answer = lab_http.get(f"http://127.0.0.1:{port}/", timeout=scaled(10))
    assert answer.status_code == 200 and answer.text == "ok"
    date = email.utils.parsedate_to_datetime(answer.headers["date"])
    assert abs(date.timestamp() - time.time()) < scaled(5), answer.headers["date"]  # uvicorn's header, kept
    threading.Thread(target=server.handle_exit, args=(signal.SIGTERM, None)).start()  # as from a signal
    thread.join(timeout=scaled(10))
    assert not thread.is_alive(), "the server kept running after handle_exit: its loop was not woken"


def _voluntary_switches(pid: int) -> int:
    """Voluntary context switches of ``pid``'s main thread: one per wake-up from an idle wait."""
    with open(f"/proc/{pid}/task/{pid}/status") as f:
        return int(f.read().split("voluntary_ctxt_switches:")[1].split()[0])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_idle_lab_service_wakes_about_once_a_second_and_stops_promptly_on_sigterm(tmp_path: Path) -> None:
    """The traffic feed (the lab's smallest service, started by ``aiops_core.settings.serve`` as every Python
    service is) idles with ~1 wake-up a second on its main thread; uvicorn's own loop took ten."""
    port = free_port()
    env = lab_env(tmp_path, AIOPS_TRAFFIC_FEED_PORT=str(port))
    feed = start_http_process("labs.traffic_feed", "traffic feed", tmp_path, env, port, timeout=60)
    try:
        assert feed.proc is not None
        time.sleep(0.5)  # the health check's connection closes
        before = _voluntary_switches(feed.proc.pid)
        time.sleep(3.0)
        woke = _voluntary_switches(feed.proc.pid) - before
        assert woke <= 12, f"the idle service's main thread woke {woke} times in 3 s (uvicorn's tick: ~30)"
        started = time.monotonic()
        feed.proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught: the status says "by SIGTERM".
        assert feed.proc.wait(timeout=scaled(30)) == -signal.SIGTERM, feed.output()[-2000:]
        assert time.monotonic() - started < scaled(5), "SIGTERM waited for a tick"
        assert "Application shutdown complete" in feed.output()
    finally:
        feed.stop()
