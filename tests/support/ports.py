"""Free loopback ports, chosen by the test that uses them."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port that was free a moment ago (the kernel's choice); the caller binds it soon after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
