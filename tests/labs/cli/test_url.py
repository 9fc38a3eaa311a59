"""``aiops-lab url``: the running lab's URL; with no lab recorded, the configured default and a warning on
stderr (stdout stays the bare URL, so ``$(aiops-lab url ...)`` still works, e.g. for a compose lab)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aiops_core.runstate import ComponentRecord, RunState
from aiops_core.topology import MODEL_SERVICE
from labs.cli.main import cli

DEFAULT = f"http://127.0.0.1:{MODEL_SERVICE.default_port}"  # printed only, never connected to


def _url(state: Path, *args: str, **env: str) -> Result:
    clean = {"AIOPS_STATE_DIR": str(state), "AIOPS_TARGET": None, "AIOPS_MODEL_SERVICE_URL": None,
             MODEL_SERVICE.port_env: None, **env}
    return CliRunner().invoke(cli, [*args, "url", MODEL_SERVICE.name], env=clean, catch_exceptions=False)


def _record(state: Path, url: str, supervisor_pid: int) -> None:
    rec = ComponentRecord(name=MODEL_SERVICE.name, port=int(url.rsplit(":", 1)[1]), url=url,
                          health_url=url + MODEL_SERVICE.health_path)
    RunState(supervisor_pid=supervisor_pid, mode="lab", started_at="",
             components={MODEL_SERVICE.name: rec}).save(state / "run" / "lab.json")


@pytest.mark.parametrize("stale_record", [False, True])
def test_with_no_running_lab_it_prints_the_default_and_says_it_is_only_that(tmp_path: Path,
                                                                             stale_record: bool) -> None:
    if stale_record:  # a lab that was stopped uncleanly: its record names a supervisor that is gone
        _record(tmp_path, "http://127.0.0.1:18123", supervisor_pid=2**22 + 1)
    result = _url(tmp_path)
    assert (result.exit_code, result.stdout) == (0, DEFAULT + "\n")
    assert f"no running lab recorded in {tmp_path / 'run' / 'lab.json'}" in result.stderr
    assert "configured default" in result.stderr and "--target compose" in result.stderr


def test_the_running_labs_record_is_the_answer_without_a_warning(tmp_path: Path) -> None:
    _record(tmp_path, "http://127.0.0.1:18123", supervisor_pid=os.getpid())  # this process stands in for it
    result = _url(tmp_path)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "http://127.0.0.1:18123\n", "")


@pytest.mark.parametrize(("args", "env", "expected"), [
    ((), {"AIOPS_MODEL_SERVICE_URL": "http://127.0.0.1:18124/"}, "http://127.0.0.1:18124"),
    (("--target", "compose"), {}, DEFAULT),  # the compose stack's published port is the answer, not a guess
    (("--target", "compose"), {MODEL_SERVICE.port_env: "18125"}, "http://127.0.0.1:18125"),
])
def test_an_explicit_url_or_the_compose_target_is_not_a_fallback(tmp_path: Path, args: tuple[str, ...],
                                                                 env: dict[str, str], expected: str) -> None:
    result = _url(tmp_path, *args, **env)
    assert (result.exit_code, result.stdout, result.stderr) == (0, expected + "\n", "")
