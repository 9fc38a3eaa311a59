"""The drill engine's client for the feed's control API (compose, where it cannot write the fault file)."""

from __future__ import annotations

from typing import Any

import httpx

from labs.traffic_feed.control import FeedFault

CONTROL_PATH = "/v1/control/fault"


class ControlError(RuntimeError):
    """The feed refused or did not answer; the message says which and how to fix it."""


def request(base_url: str, token: str | None, method: str, fault: FeedFault | None = None) -> dict[str, Any] | None:
    """``PUT`` a fault, ``DELETE`` it, or ``GET`` it; returns the fault the feed now applies (None: none)."""
    if not token:
        raise ControlError("no admin token to authenticate to the traffic feed's control API; set AIOPS_ADMIN_TOKEN")
    try:
        resp = httpx.request(method, base_url.rstrip("/") + CONTROL_PATH, timeout=10.0, trust_env=False,
                             headers={"Authorization": f"Bearer {token}"},
                             content=fault.model_dump_json() if fault is not None else None)
    except httpx.HTTPError as exc:
        raise ControlError(f"the traffic feed at {base_url} is not reachable ({type(exc).__name__}); "
                           "is it running? (aiops-lab status)") from None
    if resp.status_code != 200:
        try:
            message = resp.json().get("error", resp.text)
        except ValueError:
            message = resp.text
        raise ControlError(f"{method} {CONTROL_PATH} on the traffic feed -> HTTP {resp.status_code}: {message}")
    return resp.json().get("fault")
