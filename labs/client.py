"""HTTP client for the model service's API and admin API, used by the CLI, drills and curriculum."""

from __future__ import annotations

import os
from typing import Any

import httpx

from labs import paths
from labs.cli.errors import ExitStatus, LabError
from labs.topology import MODEL_SERVICE

ADMIN_TOKEN_FILE = "admin-token"


def service_url() -> str:
    """The model service: AIOPS_MODEL_SERVICE_URL, else the running lab's record, else the default port."""
    from labs.stack.runstate import component_url

    return component_url(MODEL_SERVICE.name)


def admin_token() -> str | None:
    """``AIOPS_ADMIN_TOKEN``, else the token ``aiops-lab up`` wrote into the state dir."""
    token = os.environ.get("AIOPS_ADMIN_TOKEN")
    if token:
        return token
    path = paths.state_dir() / ADMIN_TOKEN_FILE
    return path.read_text().strip() if path.is_file() else None


class ServiceClient:
    def __init__(self, base_url: str | None = None, token: str | None = None, actor: str = "cli",
                 timeout: float = 10.0) -> None:
        self.base_url = (base_url or service_url()).rstrip("/")
        self.token = token if token is not None else admin_token()
        self.actor = actor
        self.timeout = timeout

    def request(self, method: str, path: str, admin: bool = False, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if admin:
            if not self.token:
                raise LabError("no admin token: start the lab with 'aiops-lab up' or set AIOPS_ADMIN_TOKEN",
                               ExitStatus.NOT_RUNNING)
            headers["Authorization"] = f"Bearer {self.token}"
            headers["X-Actor"] = self.actor
        try:
            resp = httpx.request(method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise LabError(f"model service at {self.base_url} is not reachable ({type(exc).__name__}); "
                           "start it with: aiops-lab up", ExitStatus.NOT_RUNNING) from None
        if resp.status_code >= 400:
            try:
                message = resp.json().get("error", resp.text)
            except ValueError:
                message = resp.text
            status = ExitStatus.CONFLICT if resp.status_code == 409 else ExitStatus.USAGE
            if resp.status_code >= 500:
                status = ExitStatus.NOT_RUNNING
            raise LabError(f"{method} {path} -> HTTP {resp.status_code}: {message}", status)
        return resp.json()

    def reachable(self) -> bool:
        try:
            return httpx.get(self.base_url + "/healthz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False
