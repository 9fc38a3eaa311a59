"""The model service's client (public API and admin API), used by the CLI, drills, curriculum and load."""

from __future__ import annotations

from aiops_core.http import ApiClient
from aiops_core.runstate import admin_token, component_url
from aiops_core.topology import MODEL_SERVICE


def service_url() -> str:
    """The model service: AIOPS_MODEL_SERVICE_URL, else the running lab's record, else the default port."""
    return component_url(MODEL_SERVICE.name)


class ServiceClient(ApiClient):
    component = MODEL_SERVICE.name

    def __init__(self, base_url: str | None = None, token: str | None = None, actor: str = "cli",
                 timeout: float = 10.0) -> None:
        super().__init__(base_url, timeout)
        self.token = token if token is not None else admin_token()
        self.actor = actor

    def headers(self, admin: bool) -> dict[str, str]:
        # X-Actor puts who acted on the service's change history and the drill timeline.
        return {**super().headers(admin), "X-Actor": self.actor} if admin else {}
