"""The drill engine's client for the feed's control API (compose, where it cannot write the fault file)."""

from __future__ import annotations

from typing import Any

from aiops_core.errors import LabError
from aiops_core.http import ApiClient
from aiops_core.topology import TRAFFIC_FEED
from labs.traffic_feed.control import FeedFault

CONTROL_PATH = "/v1/control/fault"


class ControlError(LabError):
    """The feed refused or did not answer; the message says which and how to fix it."""


class FeedClient(ApiClient):
    component = TRAFFIC_FEED.name
    start_hint = "is it running? (aiops-lab status)"

    def __init__(self, base_url: str | None = None, token: str | None = None, timeout: float = 10.0) -> None:
        super().__init__(base_url, timeout)
        self.token = token

    def missing_token(self) -> LabError:
        return ControlError("no admin token to authenticate to the traffic feed's control API; set AIOPS_ADMIN_TOKEN")


def request(base_url: str, token: str | None, method: str, fault: FeedFault | None = None) -> dict[str, Any] | None:
    """``PUT`` a fault, ``DELETE`` it, or ``GET`` it; returns the fault the feed now applies (None: none)."""
    try:
        body = FeedClient(base_url, token).request(
            method, CONTROL_PATH, admin=True, content=fault.model_dump_json() if fault is not None else None)
    except ControlError:
        raise
    except LabError as exc:
        raise ControlError(exc.message, exc.status) from None
    return body.get("fault")
