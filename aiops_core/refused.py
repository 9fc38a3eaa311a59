"""``Refused``: the one exception for "who are you?" (401) and "you may not" (403) in the lab's own servers.

The pager (one lab token) and the game-day server (scoped participant tokens) raise it; each app maps it to
its JSON error body with ``WWW-Authenticate: Bearer`` on a 401, so a client sees one behaviour.
"""

from __future__ import annotations


class Refused(Exception):
    """401 (no or unknown credentials) or 403 (known, but not allowed); the message names what is missing."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def auth_headers(exc: Refused) -> dict[str, str] | None:
    """The challenge a 401 carries (RFC 6750); a 403 carries none."""
    return {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
