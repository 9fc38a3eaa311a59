"""Who listens on a loopback port: named in the errors about a port the lab expected to own.

"port 8000 is in use" sends a learner hunting; "port 8000 is held by pid 4242 (python3 -m http.server
8000)" names what to stop (issue 14, item 9a: a process squatting the service port during a restart).
"""

from __future__ import annotations

from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class PortOwner:
    pid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.command})"


def port_owner(port: int) -> PortOwner | None:
    """The process listening on TCP ``port``, None when nothing does or the OS will not say (another user's
    process, without privileges). Scans the system's sockets: tens of milliseconds, for error paths only."""
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return None
    for conn in conns:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return PortOwner(conn.pid, _command(conn.pid))
    return None


def _command(pid: int) -> str:
    try:
        argv = psutil.Process(pid).cmdline()
    except (psutil.Error, OSError):
        return "?"
    text = " ".join(argv) or "?"
    return text if len(text) <= 80 else text[:77] + "..."


def is_ours(owner: PortOwner, root_pid: int) -> bool:
    """Is ``owner`` the process ``root_pid`` or one of its descendants (uvicorn may fork workers)?"""
    if owner.pid == root_pid:
        return True
    try:
        return any(p.pid == owner.pid for p in psutil.Process(root_pid).children(recursive=True))
    except psutil.Error:
        return False
