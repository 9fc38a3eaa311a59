"""HTTP client for the pager, used by the CLI and the drill engine (time-to-detect, timelines, drills)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from labs.cli.errors import ExitStatus, LabError
from labs.topology import PAGER


def pager_url() -> str:
    """AIOPS_PAGER_URL, else the running lab's record, else http://127.0.0.1:<AIOPS_PAGER_PORT or 8002>."""
    from labs.stack.runstate import component_url

    return component_url(PAGER.name)


class PagerClient:
    def __init__(self, base_url: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = (base_url or pager_url()).rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = httpx.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise LabError(f"pager at {self.base_url} is not reachable ({type(exc).__name__}); "
                           "start the lab with: aiops-lab up", ExitStatus.NOT_RUNNING) from None
        if resp.status_code >= 400:
            try:
                message = resp.json().get("error", resp.text)
            except ValueError:
                message = resp.text
            status = ExitStatus.NOT_RUNNING if resp.status_code >= 500 else ExitStatus.USAGE
            if resp.status_code == 404:
                status = ExitStatus.CONFLICT
            raise LabError(f"pager: {method} {path} -> HTTP {resp.status_code}: {message}", status)
        return resp.json()

    def pages(self, since_seconds: float | None = None, status: str | None = None,
              alertname: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if since_seconds is not None:
            params["since"] = f"{time.time() - since_seconds:.3f}"
        if status:
            params["status"] = status
        if alertname:
            params["alertname"] = alertname
        return self.request("GET", "/pages", params=params)

    def active_alerts(self) -> list[dict[str, Any]]:
        return self.request("GET", "/alerts/active")

    def ack(self, target: str, by: str = "cli") -> list[dict[str, Any]]:
        return self.request("POST", "/pages/ack", json={"target": target, "by": by})

    def heartbeat(self) -> dict[str, Any]:
        return self.request("GET", "/heartbeat")

    def send_heartbeat(self) -> dict[str, Any]:
        return self.request("POST", "/heartbeat")

    def set_drill(self, drill: str | None) -> dict[str, Any]:
        return self.request("POST", "/drill", json={"drill": drill})
