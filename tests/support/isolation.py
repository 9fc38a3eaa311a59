"""Keep the test suite away from any lab it did not start, and prove it.

A developer of this project nearly always has a lab running on the default ports while the tests run, and
other labs may share the machine. Two mechanisms:

* **Closed ports for the test process itself.** Code under test that falls back to "the default port"
  would reach that lab. For the whole session, the test process's environment points every component at a
  port the suite *owns but never listens on* (a bound, non-listening socket: connecting is refused at once,
  and no other process can take it). Every lab a test builds gets fresh free ports of its own
  (``tests.support.lab.lab_environment``), so nothing inherits these.
* **A tripwire on the default ports.** Where a default port is free, the suite listens on it and records
  every connection (who, and the first line it sent); any connection fails the session, naming it. Where
  the port is taken (a developer's lab), the lab itself is what must stay untouched, and the closed ports
  above already keep the suite away from it.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

from aiops_core.topology import COMPONENTS, LOOPBACK


def closed_ports() -> tuple[dict[str, str], list[socket.socket]]:
    """``AIOPS_<COMPONENT>_PORT`` -> a port bound (not listening) by this process, and the sockets holding them."""
    env, held = {}, []
    for comp in COMPONENTS:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((LOOPBACK, 0))
        held.append(sock)
        env[comp.port_env] = str(sock.getsockname()[1])
    return env, held


@dataclass
class Tripwire:
    """Listens on every free default port of the topology and records who connects."""

    ports: dict[str, int] = field(default_factory=lambda: {c.name: c.default_port for c in COMPONENTS})
    hits: list[str] = field(default_factory=list)
    watched: list[int] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)
    _selector: selectors.DefaultSelector = field(default_factory=selectors.DefaultSelector)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Tripwire:
        for name, port in self.ports.items():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                sock.close()
                self.busy.append(port)
                continue
            sock.listen(16)
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ, name)
            self.watched.append(port)
        self._thread = threading.Thread(target=self._run, name="port-tripwire", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                try:
                    conn, peer = key.fileobj.accept()  # type: ignore[union-attr]
                except OSError:
                    continue
                conn.settimeout(0.5)
                try:
                    first = conn.recv(200).split(b"\r\n", 1)[0].decode(errors="replace")
                except OSError:
                    first = ""
                finally:
                    conn.close()
                self.hits.append(f"{time.strftime('%H:%M:%S')} {key.data} default port "
                                 f"{key.fileobj.getsockname()[1]} from {peer[0]}:{peer[1]}: {first!r} "  # type: ignore[union-attr]
                                 f"(test: {os.environ.get('PYTEST_CURRENT_TEST', '?')})")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()
