"""Bad arguments to ``aiops-lab load``: one clear line naming the option, and the right exit code."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from aiops_core.errors import ExitStatus
from labs.cli.main import cli
from tests.support.processes import free_port


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["load", *args])


@pytest.mark.parametrize(("args", "message"), [
    (["--profile", "tsunami"], "'tsunami' is not one of"),
    (["--data", "snow"], "'snow' is not one of"),
    (["--users", "-5"], "--users -5 is out of range; use 1..1000"),
    (["--users", "0"], "--users 0 is out of range"),
    (["--users", "1001"], "--users 1001 is out of range"),
    (["--duration", "0s"], "--duration '0s' is out of range; use 1s..24h"),
    (["--duration", "25h"], "--duration '25h' is out of range"),
    (["--duration", "soon"], "--duration 'soon' is not a duration"),
    (["--max-failure-ratio", "5"], "--max-failure-ratio 5.0 is out of range"),
    (["--max-p99-ms", "-1"], "--max-p99-ms -1.0 must be greater than 0"),
    (["--feedback-ratio", "1.5"], "--feedback-ratio 1.5 is out of range"),
    (["--profile", "spike", "--shape-param", "ramp_seconds=3"], "its parameters are: base_fraction, spike_at"),
    (["--host", "ftp://127.0.0.1"], "--host 'ftp://127.0.0.1' is not an http(s) URL"),
])
def test_bad_run_arguments_are_usage_errors(args: list[str], message: str) -> None:
    result = invoke("run", *args)
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_unreachable_host_says_how_to_start_the_lab() -> None:
    result = invoke("run", "--host", f"http://127.0.0.1:{free_port()}", "--duration", "5s")
    assert result.exit_code == ExitStatus.NOT_RUNNING
    assert "no service answers at http://127.0.0.1:" in result.output
    assert "aiops-lab up" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--max-users", "2000"], "--max-users 2000 is out of range"),
    (["--start-users", "8", "--max-users", "4"], "--max-users 4 is below --start-users 8"),
    (["--step", "0s"], "--step '0s' is out of range"),
    (["--budget", "forever"], "--budget 'forever' is not a duration"),
])
def test_bad_capacity_arguments_are_usage_errors(args: list[str], message: str) -> None:
    result = invoke("capacity", *args)
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert message in result.output


def test_ui_refuses_an_unreachable_host() -> None:
    result = invoke("ui", "--host", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == ExitStatus.NOT_RUNNING


def test_profiles_lists_every_shape_and_data_profile() -> None:
    result = invoke("profiles")
    assert result.exit_code == 0
    for name in ("steady", "ramp", "spike", "soak", "diurnal", "covariate-shift", "feed-broken-null", "unit-error"):
        assert name in result.output
