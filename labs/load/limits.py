"""What a load test may ask for: user and duration bounds, duration parsing, and who may be targeted.

Kept free of heavy imports (no pandas, no Locust) so the CLI can refuse a bad value in milliseconds.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiops_core.durations import parse_seconds
from aiops_core.errors import ExitStatus, LabError

MIN_USERS = 1
MAX_USERS = 1000  # one Locust process on a laptop; more needs distributed workers, not this lab
MIN_DURATION_S = 1.0
MAX_DURATION_S = 24 * 3600.0

def check_users(value: int, option: str = "--users") -> int:
    if not MIN_USERS <= value <= MAX_USERS:
        raise LabError(f"{option} {value} is out of range; use {MIN_USERS}..{MAX_USERS} "
                       "(more than that needs distributed Locust workers)")
    return value


def check_duration(text: str, option: str = "--duration") -> float:
    seconds = parse_seconds(text, option)
    if not MIN_DURATION_S <= seconds <= MAX_DURATION_S:
        raise LabError(f"{option} {text!r} is out of range; use 1s..24h")
    return seconds


def check_ratio(value: float | None, option: str) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise LabError(f"{option} {value} is out of range; use a ratio between 0 and 1 (0.01 = 1%)")
    return value


def check_positive(value: float | None, option: str) -> float | None:
    if value is not None and value <= 0:
        raise LabError(f"{option} {value} must be greater than 0")
    return value


def check_host(url: str) -> tuple[str, bool]:
    """Normalise ``--host`` and tell whether every address it names is loopback.

    Load must only target machines the learner owns; loopback is the safe default, and a compose stack
    on another of their hosts is allowed with a warning rather than refused.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LabError(f"--host {url!r} is not an http(s) URL; use e.g. http://127.0.0.1:8000")
    try:
        port = parts.port
    except ValueError:
        raise LabError(f"--host {url!r} has an invalid port; use e.g. http://127.0.0.1:8000") from None
    host = parts.hostname
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port or 80, proto=socket.IPPROTO_TCP)
        except OSError:
            raise LabError(f"--host {url!r}: cannot resolve {host!r}; check the name or use an IP address",
                           ExitStatus.NOT_RUNNING) from None
        addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    loopback = all(a.is_loopback for a in addresses)
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}", loopback
