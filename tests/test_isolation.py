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
