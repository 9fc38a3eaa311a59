"""The shell commands in runbooks are real: `aiops-lab` commands parse with the actual CLI (noun, verb,
options, choices), and `curl` targets the lab's components at their default ports and real paths.

The integration test (test_prometheus_integration.py) then runs the curl commands against a live service
and Prometheus.
"""

from __future__ import annotations

import importlib
import shlex
from pathlib import Path
from urllib.parse import urlparse

import click
import pytest

from aiops_core.topology import ALERTMANAGER, DRIFT_MONITOR, MODEL_SERVICE, PAGER, PROMETHEUS
from labs.cli.main import COMMANDS
from model_service.app import create_app
from model_service.settings import Settings
from tests.monitoring import catalog
from tests.support.cli_parse import parse_cli

LINES = catalog.runbook_shell_lines()
ALLOWED_PROGRAMS = {"aiops-lab", "curl", "df", "ls"}
# Paths other components serve (the service's come from its app, below).
COMPONENT_PATHS = {
    PROMETHEUS.default_port: ("/api/v1/", "/-/"),
    ALERTMANAGER.default_port: ("/api/v2/", "/-/"),
    DRIFT_MONITOR.default_port: ("/healthz", "/metrics", "/reports"),
    PAGER.default_port: ("/heartbeat", "/pages", "/alerts", "/events", "/drill", "/healthz", "/metrics"),
}


def _cli_command(args: list[str]) -> None:
    """Resolve and parse ``aiops-lab ARGS`` exactly as the CLI would, without running it."""
    parse_cli(args)


def _service_paths(tmp_path: Path) -> set[str]:
    app = create_app(Settings(state_dir=tmp_path, models_dir=tmp_path / "models",
                              prediction_log=tmp_path / "p.db"))
    return {*app.openapi()["paths"], "/openapi.json", "/docs"}


def test_runbooks_contain_commands() -> None:
    assert len(LINES) >= 20


@pytest.mark.parametrize(("runbook", "line"), LINES, ids=lambda v: str(v)[:70])
def test_shell_lines_use_known_programs(runbook: str, line: str) -> None:
    assert shlex.split(line)[0] in ALLOWED_PROGRAMS


@pytest.mark.parametrize(("runbook", "line"), [c for c in LINES if c[1].startswith("aiops-lab ")],
                         ids=lambda v: str(v)[:70])
def test_aiops_lab_commands_parse_with_the_real_cli(runbook: str, line: str) -> None:
    words = shlex.split(line)
    module = COMMANDS.get(words[1], ("", "", ""))[0]
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not in this checkout yet")
    _cli_command(words[1:])


def test_a_wrong_cli_command_is_caught() -> None:
    with pytest.raises(AssertionError, match="no command 'rollforward'"):
        _cli_command(["model", "rollforward"])
    with pytest.raises(click.UsageError):
        _cli_command(["model", "retrain", "--sinse", "1h"])


def test_curl_commands_target_real_paths_of_lab_components(tmp_path: Path) -> None:
    service_paths = _service_paths(tmp_path)
    curls = [line for _, line in LINES if line.startswith("curl ")]
    assert curls
    for line in curls:
        url = urlparse(next(w for w in shlex.split(line) if w.startswith("http")))
        assert url.hostname == "127.0.0.1", line
        if url.port == MODEL_SERVICE.default_port:
            assert url.path in service_paths, line
        else:
            assert url.port in COMPONENT_PATHS, line
            assert url.path.startswith(COMPONENT_PATHS[url.port]), line
