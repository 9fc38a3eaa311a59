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

  The tripwire asks the kernel which process connected (``/proc/net/tcp`` -> socket inode -> ``/proc/PID/fd``)
  and fails the session only for the suite's own processes: descendants of the test process, or any process
  carrying the session's marker (``SESSION_MARKER`` in its environment, inherited by every lab the suite
  starts, even a daemonised one). A developer typing ``aiops-lab status`` in another terminal while the suite
  runs reaches the tripwire too; that is recorded as ignored, not blamed on the test that happened to run.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiops_core.topology import COMPONENTS, LOOPBACK

SESSION_MARKER = "AIOPSLAB_TEST_SESSION"  # not AIOPS_*: the session fixture clears those


_session_environment: dict[str, str] | None = None


def freeze_session_environment() -> None:
    """Keep the environment the session isolated itself with (closed ports, its state dir, its marker).

    Why: the drill pool plays in worker threads while the main thread's tests run, and a test's
    ``monkeypatch.setenv`` changes ``os.environ`` for every thread at once. A pool job that copied
    ``os.environ`` at the wrong moment carried a test's ``AIOPS_PROMETHEUS_URL`` (a Prometheus stopped
    seconds later) into a lab's shell: CI, stop 25. Labs and jobs start from this copy instead.
    """
    global _session_environment
    _session_environment = dict(os.environ)


def session_environment() -> dict[str, str]:
    """A copy of the session's environment (``os.environ`` outside a test session, e.g. a benchmark script)."""
    return dict(os.environ if _session_environment is None else _session_environment)


def mark_session() -> str:
    """Give this process (and so every process it starts) the session's marker; returns it."""
    return os.environ.setdefault(SESSION_MARKER, uuid.uuid4().hex)


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    """The inode of the loopback socket ``127.0.0.1:local_port -> 127.0.0.1:remote_port`` (the client's end)."""
    want = f"0100007F:{local_port:04X}", f"0100007F:{remote_port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        cols = line.split()
        if (cols[1], cols[2]) == want:
            return cols[9]
    return None


def _owner(inode: str) -> int | None:
    target = f"socket:[{inode}]"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return int(pid)
            except OSError:
                continue
    return None


def _ours(pid: int) -> bool:
    """``pid`` is this process, a descendant of it, or carries this session's marker in its environment."""
    marker = os.environ.get(SESSION_MARKER)
    try:
        env = Path(f"/proc/{pid}/environ").read_bytes()
        if marker and f"{SESSION_MARKER}={marker}".encode() in env.split(b"\0"):
            return True
    except OSError:
        pass
    seen = 0
    while pid > 1 and seen < 64:
        if pid == os.getpid():
            return True
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        pid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        seen += 1
    return False


def connecting_process(peer_port: int, port: int) -> tuple[int | None, str]:
    """Which process holds the client end of a connection to ``port`` from ``peer_port``: (pid, command)."""
    inode = _socket_inode(peer_port, port)
    pid = _owner(inode) if inode else None
    if pid is None:
        return None, "?"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmd = "?"
    return pid, cmd[:120]


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
    ignored: list[str] = field(default_factory=list)  # connections from processes outside this session
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
                port = key.fileobj.getsockname()[1]  # type: ignore[union-attr]
                pid, cmd = connecting_process(peer[1], port)  # while the client still holds its end
                try:
                    first = conn.recv(200).split(b"\r\n", 1)[0].decode(errors="replace")
                except OSError:
                    first = ""
                finally:
                    conn.close()
                line = (f"{time.strftime('%H:%M:%S')} {key.data} default port {port} from {peer[0]}:{peer[1]} "
                        f"(pid {pid}: {cmd}): {first!r}")
                if pid is not None and not _ours(pid):
                    self.ignored.append(line)
                else:  # ours, or gone before it could be named: blame the test, to be safe
                    self.hits.append(f"{line} (test: {os.environ.get('PYTEST_CURRENT_TEST', '?')})")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()
