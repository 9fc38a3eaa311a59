"""The suite's isolation from labs it did not start (``tests/support/isolation.py``) really isolates."""

from __future__ import annotations

import os
import socket

import pytest

from aiops_core.runstate import component_url
from aiops_core.topology import COMPONENTS, MODEL_SERVICE
from model_service.client import ServiceClient
from tests.support.isolation import Tripwire
from tests.support.ports import free_port


def test_the_test_process_points_every_component_at_a_port_that_refuses() -> None:
    for comp in COMPONENTS:
        port = int(os.environ[comp.port_env])
        assert port != comp.default_port, comp.name
        with socket.socket() as s, pytest.raises(ConnectionRefusedError):
            s.connect(("127.0.0.1", port))
    # Code under test that falls back to "the default" finds nothing, at once:
    assert component_url(MODEL_SERVICE.name) == f"http://127.0.0.1:{os.environ[MODEL_SERVICE.port_env]}"
    assert not ServiceClient().reachable()


def test_the_tripwire_records_who_reached_a_watched_port() -> None:
    port = free_port()
    wire = Tripwire(ports={"model-service": port}).start()
    try:
        assert wire.watched == [port]
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(1)  # the tripwire closes after reading the first line
    finally:
        wire.stop()
    assert len(wire.hits) == 1 and "model-service default port" in wire.hits[0] and "GET /readyz" in wire.hits[0]


def test_a_busy_port_is_left_alone_not_stolen() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        wire = Tripwire(ports={"pager": port}).start()
        wire.stop()
    assert wire.busy == [port] and wire.watched == []


def test_the_tripwire_blames_only_the_sessions_own_processes() -> None:
    """A connection from a process outside the session (another terminal's ``aiops-lab status``) is recorded
    as ignored; one from a process the session started (a child, or a daemon carrying the marker) is a hit."""
    import subprocess
    import sys

    from aiops_core.polling import wait_until
    from tests.support.isolation import SESSION_MARKER, mark_session

    mark_session()
    port = free_port()
    wire = Tripwire(ports={"model-service": port}).start()
    connect = ("import os,socket,sys,time\n"
               "if sys.argv[2] == 'orphan':\n"
               "    parent = os.getpid()\n"
               "    if os.fork(): os._exit(0)\n"  # the parent exits: the child is re-parented, no longer ours
               "    while os.getppid() == parent: time.sleep(0.01)\n"
               "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)\n"
               "s.sendall(b'GET /readyz HTTP/1.1\\r\\n\\r\\n'); s.recv(1)\n")
    try:
        foreign = {k: v for k, v in os.environ.items() if k != SESSION_MARKER}
        subprocess.run([sys.executable, "-c", connect, str(port), "orphan"], env=foreign, timeout=30, check=True)
        wait_until(lambda: wire.ignored or wire.hits, timeout=30, what="the orphan's connection")
        ours = subprocess.run([sys.executable, "-c", connect, str(port), "child"], timeout=30)
        assert ours.returncode == 0
        wait_until(lambda: len(wire.ignored) + len(wire.hits) == 2, timeout=30, what="the child's connection")
    finally:
        wire.stop()
    assert len(wire.ignored) == 1 and "GET /readyz" in wire.ignored[0], (wire.ignored, wire.hits)
    assert len(wire.hits) == 1 and "GET /readyz" in wire.hits[0], wire.hits


def test_labs_and_pool_jobs_start_from_the_session_environment_not_a_tests_monkeypatch(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The drill pool's jobs build environments in worker threads while the main thread's tests run, and a
    test's ``monkeypatch.setenv`` changes ``os.environ`` for every thread. CI (stop 25) saw it: the Prometheus
    job copied an ``AIOPS_PROMETHEUS_URL`` a test had pointed at its own Prometheus, stopped seconds later, so
    every runbook ``curl "$(aiops-lab url prometheus)..."`` was refused. A lab's environment comes from the
    environment the session isolated itself with, whatever a test set since."""
    from types import SimpleNamespace

    from tests.monitoring.prometheus_job import _recorded_lab
    from tests.support.isolation import SESSION_MARKER
    from tests.support.lab import lab_environment

    session_path = os.environ["PATH"]
    monkeypatch.setenv("AIOPS_PROMETHEUS_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("SOME_TEST_ONLY_VARIABLE", "1")

    env = lab_environment(tmp_path / "state")
    assert env["PATH"] == session_path and "SOME_TEST_ONLY_VARIABLE" not in env
    assert env[SESSION_MARKER] == os.environ[SESSION_MARKER], "labs carry the session's marker (the tripwire)"

    service, prom = SimpleNamespace(url="http://127.0.0.1:1001"), SimpleNamespace(url="http://127.0.0.1:1002")
    recorded = _recorded_lab(service, prom, tmp_path / "recorded")  # type: ignore[arg-type]
    assert "AIOPS_PROMETHEUS_URL" not in recorded and "SOME_TEST_ONLY_VARIABLE" not in recorded
    assert str(tmp_path / "empty") not in recorded["PATH"].split(os.pathsep)
    for comp in COMPONENTS:  # the suite's refusing ports stay: a runbook line that does not ask the lab fails
        assert recorded[comp.port_env] == os.environ[comp.port_env]
