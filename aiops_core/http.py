"""One HTTP client for the lab's services, with one mapping from HTTP outcomes to errors and exit codes.

Each service's client (``model_service.client``, ``labs.pager.client``, ``labs.traffic_feed.remote``,
``monitoring.drift.client``) subclasses ``ApiClient`` and names its component; where it lives is found
the same way for all of them (``runstate.component_url``). The mapping, in one place:

=========================  =======================  ==========================================
outcome                    error                    exit status
=========================  =======================  ==========================================
not reachable, 5xx         ``NotRunning``           3, "start it / check it: aiops-lab status"
409                        ``Conflict``             5
any other 4xx (404 too)    ``LabError``             2: the request named something wrong
=========================  =======================  ==========================================

The message always carries the service's own ``error`` text, which names the field or thing at fault.

Every request the lab sends goes through ``send``/``get``/``post`` or a client from ``new_client``: no proxy
from the environment (every lab URL is loopback) and one TLS context for the process. httpx builds a new
context for each client it makes -- ``httpx.get`` makes one per call -- and loading certifi's CA bundle
costs ~33 ms of CPU each time, though the lab never speaks TLS: ``aiops-lab drill status`` spent 230 of its
1,100 ms there, and the pager's watcher paid it on every probe. ruff's TID251 keeps ``httpx.get``/``post``/
``request`` out of the code; clients come from ``new_client``/``new_async_client``.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any, ClassVar

import httpx

from aiops_core.errors import Conflict, LabError, NotRunning
from aiops_core.runstate import component_url
from aiops_core.topology import BY_NAME

NOT_IDENTIFIED = "not the expected process"  # how ``health_problem`` starts a wrong-identity answer


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context (certifi's CAs, ``SSL_CERT_FILE`` honoured), built on first use."""
    return httpx.create_ssl_context()


def send(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """``httpx.request`` without the environment's proxies and with the shared TLS context."""
    return httpx.request(method, url, trust_env=False, verify=tls_context(), **kwargs)  # noqa: TID251


def get(url: str, **kwargs: Any) -> httpx.Response:
    return send("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return send("POST", url, **kwargs)


def new_client(**kwargs: Any) -> httpx.Client:
    """A keep-alive client for many requests, on the same terms as ``send``."""
    return httpx.Client(trust_env=False, verify=tls_context(), **kwargs)


def new_async_client(**kwargs: Any) -> httpx.AsyncClient:
    """An asyncio client on the same terms as ``send``."""
    return httpx.AsyncClient(trust_env=False, verify=tls_context(), **kwargs)


def health_problem(url: str, timeout: float = 2.0, identity: str = "") -> str | None:
    """None when ``url`` answers 200, else a short reason ("ConnectError", "HTTP 503").

    With ``identity`` (``topology.Component.identity``) the 200 must also be a JSON object whose ``service``
    is that name: any HTTP server on the port answers 200 to a health path, and the lab once reported a
    squatter's empty 200s as a healthy model service (issue 14, item 9a).
    """
    try:
        resp = get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    if resp.status_code != 200:
        return f"HTTP {resp.status_code}"
    if identity:
        try:
            said = resp.json().get("service")
        except (ValueError, AttributeError):
            said = None
        if said != identity:
            return f"{NOT_IDENTIFIED}: 200 without \"service\": \"{identity}\" (another program holds the port)"
    return None


def healthy(url: str, timeout: float = 2.0, identity: str = "") -> bool:
    """Does ``url`` (a full health URL) answer 200 right now (as ``identity``, when given)?"""
    return health_problem(url, timeout, identity) is None


def component_problem(name: str, url: str, timeout: float = 2.0) -> str | None:
    """``health_problem`` of the lab component ``name`` (a topology name) at ``url`` (its full health URL),
    with the identity the topology gives it.

    Every place that judges a lab component's health goes through here, so none can forget the identity: a
    squatter's empty 200 on the model service's port once passed the drill check "the model service is
    ready" because only the supervisor and ``aiops-lab status`` passed it (issue 14).
    """
    comp = BY_NAME.get(name)
    return health_problem(url, timeout, comp.identity if comp is not None else "")


def component_healthy(name: str, url: str, timeout: float = 2.0) -> bool:
    """Does the lab component ``name`` answer 200 at ``url`` right now, as itself?"""
    return component_problem(name, url, timeout) is None


def error_text(resp: httpx.Response) -> str:
    """The service's own error message (``{"error": ...}``), else the body's first 300 characters."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return resp.text[:300]


class ApiClient:
    """A lab service's JSON API. Subclasses set ``component`` (a topology name) and add typed methods."""

    component: ClassVar[str]
    start_hint: ClassVar[str] = "start the lab with: aiops-lab up"
    # Liveness, not readiness: a service that answers but is not ready (no loadable model) is exactly the one
    # a learner must still reach, e.g. to deploy a good model.
    live_path: ClassVar[str] = "/healthz"

    def __init__(self, base_url: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = (base_url or component_url(self.component)).rstrip("/")
        self.timeout = timeout

    token: str | None = None  # the lab token: a bearer credential on admin requests

    def headers(self, admin: bool) -> dict[str, str]:
        """The lab token on admin requests; a subclass adds its own headers (e.g. who acted)."""
        if not admin:
            return {}
        if not self.token:
            raise self.missing_token()
        return {"Authorization": f"Bearer {self.token}"}

    def missing_token(self) -> LabError:
        """The error for an admin request without a token; a subclass may name its own kind of error."""
        return NotRunning(f"no lab token to sign this {self.component} request with: start the lab with "
                          "'aiops-lab up' (it writes <state>/admin-token) or set AIOPS_ADMIN_TOKEN")

    def request(self, method: str, path: str, *, admin: bool = False, timeout: float | None = None,
                **kwargs: Any) -> Any:
        """Send a request and return the decoded JSON; raise a ``LabError`` subclass as the table says."""
        headers = {**self.headers(admin), **kwargs.pop("headers", {})}
        try:
            resp = send(method, self.base_url + path, headers=headers,
                        timeout=self.timeout if timeout is None else timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise NotRunning(f"{self.component} at {self.base_url} is not reachable ({type(exc).__name__}); "
                             f"{self.start_hint}") from None
        if resp.status_code >= 400:
            message = f"{self.component}: {method} {path} -> HTTP {resp.status_code}: {error_text(resp)}"
            if resp.status_code >= 500:
                raise NotRunning(message + "; check it with: aiops-lab status")
            if resp.status_code == 409:
                raise Conflict(message)
            raise LabError(message)
        if not resp.content:
            return None  # a bodyless success (Alertmanager's DELETE /api/v2/silence/{id})
        try:
            return resp.json()
        except ValueError:
            raise NotRunning(f"{self.component}: {method} {path} answered HTTP {resp.status_code} without "
                             "JSON; is something else listening on that port? check: aiops-lab status") from None

    def reachable(self) -> bool:
        """Is the process there and answering (``live_path``), ready or not?"""
        return component_healthy(self.component, self.base_url + self.live_path)
