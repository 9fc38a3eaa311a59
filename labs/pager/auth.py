"""Who may write to the pager: only the lab's own callers, proven by the lab's bearer token.

Anything that can reach the pager's port could otherwise keep the dead-man's switch green (a fake
``POST /heartbeat`` every minute), resolve a real page with a forged notification, or acknowledge it. The
token is the one ``aiops-lab up`` generates into the state dir (``admin-token``, mode 0600): Alertmanager
reads it from that file for every webhook (``http_config.authorization.credentials_file``, rendered by
monitoring/render.py), the CLI and the drill engine read it through ``aiops_core.runstate.admin_token``.
Reads (pages, heartbeat status, metrics) stay open: they change nothing.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Header, Request

from aiops_core.refused import Refused

log = logging.getLogger("aiops.pager")
TOKEN_HINT = "the token is in the lab's state dir, file admin-token (aiops-lab up writes it)"


def require_token(token: str | None) -> Callable[..., None]:
    """A FastAPI dependency that lets a request through only with ``Authorization: Bearer <token>``."""

    def check(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
        where = f"{request.method} {request.url.path}"
        if token is None:
            raise Refused(403, f"{where} is disabled: this pager has no token to check callers against; start it "
                          "with AIOPS_ADMIN_TOKEN set (aiops-lab up does this for you)")
        if not authorization or not authorization.lower().startswith("bearer "):
            log.warning("write refused: no bearer token", extra={"endpoint": where})
            raise Refused(401, f"authorization: {where} accepts only the lab's own callers: send "
                          f"'Authorization: Bearer <token>'; {TOKEN_HINT}")
        if not hmac.compare_digest(authorization[7:].strip().encode(), token.encode()):
            log.warning("write refused: wrong bearer token", extra={"endpoint": where})
            raise Refused(403, f"authorization: the bearer token is wrong for {where}; {TOKEN_HINT}")

    return check
