"""``ApiClient``: one mapping from HTTP outcomes to errors and exit statuses, against a real HTTP server."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from aiops_core import http as lab_http
from aiops_core.errors import Conflict, ExitStatus, LabError, NotRunning
from aiops_core.http import ApiClient, health_problem, healthy
from tests.support.http_server import serving
from tests.support.ports import free_port


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = int(self.path.strip("/").split("?")[0] or 200)
        body = json.dumps({"error": f"field x: status {code}"} if code >= 400 else {"ok": True,
                          "auth": self.headers.get("Authorization")}).encode()
        if self.path.startswith("/999"):
            code, body = 200, b"<html>not json</html>"
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving(_Handler) as url:
        yield url


class Demo(ApiClient):
    component = "pager"

    def headers(self, admin: bool) -> dict[str, str]:
        return {"Authorization": "Bearer t"} if admin else {}


@pytest.mark.parametrize(("code", "error", "status"), [
    (404, LabError, ExitStatus.USAGE), (422, LabError, ExitStatus.USAGE), (409, Conflict, ExitStatus.CONFLICT),
    (500, NotRunning, ExitStatus.NOT_RUNNING), (503, NotRunning, ExitStatus.NOT_RUNNING),
])
def test_status_codes_map_to_one_error_each(server: str, code: int, error: type[LabError],
                                             status: ExitStatus) -> None:
    with pytest.raises(error) as info:
        Demo(server).request("GET", f"/{code}")
    assert info.value.status == status
    assert f"HTTP {code}" in info.value.message and f"field x: status {code}" in info.value.message


def test_success_returns_json_and_admin_headers_are_sent(server: str) -> None:
    assert Demo(server).request("GET", "/200") == {"ok": True, "auth": None}
    assert Demo(server).request("GET", "/200", admin=True)["auth"] == "Bearer t"


def test_a_non_json_answer_is_not_running_naming_the_cause(server: str) -> None:
    with pytest.raises(NotRunning, match="without JSON"):
        Demo(server).request("GET", "/999")


def test_nothing_listening_is_not_running_with_the_next_command() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NotRunning, match=r"pager at .* is not reachable .*aiops-lab up"):
        Demo(url, timeout=2).request("GET", "/pages")
    assert not Demo(url).reachable()
    assert health_problem(url + "/healthz") == "ConnectError" and not healthy(url + "/healthz")


def test_reachable_means_alive_not_ready(server: str) -> None:
    """A service that answers 503 on readiness (no loadable model) must still be reachable: deploying a good
    model through it is the fix."""

    class NotReady(Demo):
        live_path = "/200"

    class Dead(Demo):
        live_path = "/503"

    assert NotReady(server).reachable() and not Dead(server).reachable()


def test_health_problem_names_the_status(server: str) -> None:
    assert health_problem(server + "/503") == "HTTP 503"
    assert health_problem(server + "/200") is None


def test_requests_share_one_tls_context(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx loads certifi's CA bundle (~33 ms of CPU) for every client it builds, and ``httpx.get`` builds
    one per call: the lab's requests, clients and health probes must load it once per process."""
    loads: list[object] = []
    original = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(args)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    lab_http.tls_context.cache_clear()
    for _ in range(3):
        assert lab_http.get(server + "/200").status_code == 200
        assert healthy(server + "/200")
        Demo(server).request("GET", "/200")
        with lab_http.new_client(base_url=server) as client:
            assert client.get("/200").status_code == 200
    assert len(loads) == 1
    assert lab_http.new_client()._transport._pool._ssl_context is lab_http.tls_context()  # type: ignore[attr-defined]
