"""A squatter on the model service's port (another program answering 200 to any path) is not the model
service: the drill check "the model service is ready" and the drill preflight say so (issue 14). The lab
record points at a tiny real HTTP server; the same record pointing at one that answers as the model
service passes, so the tests tell the two apart rather than failing on anything."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from aiops_core.errors import LabError
from aiops_core.runstate import ComponentRecord, RunState
from aiops_core.topology import MODEL_SERVICE
from labs.drills import checks, preflight
from labs.drills.schema import ServiceCheck
from tests.support.http_server import serving

READY = ServiceCheck(type="service", name="the model service is ready")


def _answering(body: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    payload = json.dumps(body).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(params=["squatter", "model-service"])
def lab(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A native lab record (this process stands in for its supervisor) whose model service is ``param``."""
    monkeypatch.setenv("AIOPS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("AIOPS_TARGET", raising=False)
    monkeypatch.delenv("AIOPS_MODEL_SERVICE_URL", raising=False)
    body = {} if request.param == "squatter" else {"status": "ready", "service": MODEL_SERVICE.identity}
    with serving(_answering(body)) as url:
        port = int(url.rsplit(":", 1)[1])
        rec = ComponentRecord(name=MODEL_SERVICE.name, port=port, url=url,
                              health_url=url + MODEL_SERVICE.health_path, state="healthy")
        RunState(supervisor_pid=os.getpid(), mode="lab", started_at="",
                 components={MODEL_SERVICE.name: rec}).save()
        yield request.param


def test_the_drill_check_does_not_take_a_squatter_for_the_model_service(lab: str) -> None:
    result = checks.service(READY)
    if lab == "squatter":
        assert not result.passed and "not the expected process" in result.detail, result
    else:
        assert result.passed, result


def test_the_drill_preflight_does_not_take_a_squatter_for_the_model_service(lab: str) -> None:
    if lab == "squatter":
        with pytest.raises(LabError, match="the model service is not healthy"):
            preflight.require_lab()
    else:
        preflight.require_lab()
