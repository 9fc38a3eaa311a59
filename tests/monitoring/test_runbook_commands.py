"""The shell commands in runbooks are real: `aiops-lab` commands parse with the actual CLI (noun, verb,
options, choices), and `curl` targets a real path of the component named by ``$(aiops-lab url COMPONENT)``,
never a hard-coded port: a lab started on other ports must be reachable by the same lines (issue 14, 9e).

The integration test (test_prometheus_integration.py) then runs the curl commands against a live service
and Prometheus on non-default ports, recorded as a running lab's ports.
"""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import click
import pytest

from aiops_core.topology import ALERTMANAGER, DRIFT_MONITOR, MODEL_SERVICE, PAGER, PROMETHEUS, TRAFFIC_FEED
from labs.cli.main import COMMANDS
from model_service.app import create_app
from model_service.settings import Settings
from tests.monitoring import catalog
from tests.support.cli_parse import parse_cli

LINES = catalog.runbook_shell_lines()
GUIDE_LINES = catalog.guide_shell_lines()
ALLOWED_PROGRAMS = {"aiops-lab", "curl", "df", "ls"}
# Paths other components serve (the service's come from its app, below).
COMPONENT_PATHS = {
    PROMETHEUS.name: ("/api/v1/", "/-/"),
    ALERTMANAGER.name: ("/api/v2/", "/-/"),
    DRIFT_MONITOR.name: ("/healthz", "/metrics", "/reports", "/run"),
    PAGER.name: ("/heartbeat", "/pages", "/alerts", "/events", "/drill", "/healthz", "/metrics"),
    TRAFFIC_FEED.name: ("/healthz", "/v1/traffic-index"),
}
# How a command names a component's address: the running lab's, whatever its ports.
URL_OF = re.compile(r'"\$\(aiops-lab url (?P<component>[a-z-]+)\)(?P<path>[^"\s]*)"')
# What it must not do: a literal loopback address with a port (the defaults are only the defaults).
HARD_CODED = re.compile(r"(?:127\.0\.0\.1|localhost|0\.0\.0\.0):\d+")


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
    curls = [(doc, line) for doc, line in LINES + GUIDE_LINES if line.startswith("curl ")]
    assert len(curls) >= 40
    for doc, line in curls:
        targets = URL_OF.findall(line)
        assert targets, f"{doc}: {line!r} names no component; write \"$(aiops-lab url COMPONENT)/path\""
        for component, path in targets:
            _cli_command(["url", component])
            path = urlparse(path).path
            if component == MODEL_SERVICE.name:
                assert path in service_paths, f"{doc}: {line}"
            else:
                assert path.startswith(COMPONENT_PATHS[component]), f"{doc}: {line}"


def test_no_runbook_hard_codes_a_port() -> None:
    """A lab on other ports (``AIOPS_<NAME>_PORT``, a second lab) must be reachable by the same text: not
    even the prose names ``127.0.0.1:<port>``, which a learner copies as readily as a command."""
    texts = {p: p.read_text() for p in catalog.RUNBOOKS_DIR.rglob("*.md")}
    assert len(texts) > 30
    found = [f"{p.relative_to(catalog.RUNBOOKS_DIR)}: {m.group()}" for p, t in texts.items()
             for m in HARD_CODED.finditer(t)]
    assert found == [], "use \"$(aiops-lab url COMPONENT)\" instead of:\n" + "\n".join(found)


def test_the_hard_coded_port_check_can_fail() -> None:
    assert HARD_CODED.search("curl -fsS http://127.0.0.1:8000/readyz")
    assert not URL_OF.findall("curl -fsS http://127.0.0.1:8000/readyz")
    assert URL_OF.findall('curl -fsS "$(aiops-lab url pager)/healthz"') == [("pager", "/healthz")]


def test_no_command_reads_the_token_from_the_default_state_dir() -> None:
    """``$(cat .lab/admin-token)`` breaks on a lab whose state dir is elsewhere; ``$(aiops-lab token)`` does not."""
    lines = [f"{doc}: {line}" for doc, line in LINES if ".lab/admin-token" in line]
    assert lines == [], "use $(aiops-lab token) instead of:\n" + "\n".join(lines)
