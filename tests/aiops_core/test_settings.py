"""Settings errors name the environment variable, its value and the rule; ``__main__`` exits 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiops_core import runstate
from aiops_core.errors import ExitStatus
from aiops_core.settings import SettingsError, load
from tests.support.lab import lab_environment


class Demo(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOPS_DEMO_")

    timeout_s: float = Field(10.0, gt=0)
    port: int = Field(8000, ge=1, le=65535, validation_alias="AIOPS_DEMO_SERVICE_PORT")


def test_each_bad_variable_is_named_with_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOPS_DEMO_TIMEOUT_S", "-1")
    monkeypatch.setenv("AIOPS_DEMO_SERVICE_PORT", "http")
    with pytest.raises(SettingsError) as info:
        load(Demo)
    assert "AIOPS_DEMO_TIMEOUT_S='-1': Input should be greater than 0" in info.value.message
    assert "AIOPS_DEMO_SERVICE_PORT='http': Input should be a valid integer" in info.value.message
    assert info.value.status == ExitStatus.USAGE


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOPS_DEMO_TIMEOUT_S", "3")
    assert load(Demo).timeout_s == 3.0 and load(Demo, timeout_s=7).timeout_s == 7.0


@pytest.mark.integration
@pytest.mark.parametrize(("module", "variable"), [("labs.pager", "AIOPS_PAGER_HEARTBEAT_TIMEOUT_S"),
                                                  ("labs.traffic_feed", "AIOPS_TRAFFIC_FEED_MAX_BODY_BYTES"),
                                                  ("model_service", "AIOPS_LOG_FLUSH_MS")])
def test_every_server_refuses_a_bad_setting_with_exit_2_and_no_traceback(tmp_path: Path, module: str,
                                                                         variable: str) -> None:
    done = subprocess.run([sys.executable, "-m", module], env=lab_environment(tmp_path, **{variable: "-1"}),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{variable}='-1'" in done.stderr and "Traceback" not in done.stderr


def test_the_target_is_one_of_two_and_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIOPS_TARGET", raising=False)
    assert runstate.target() == "native"
    monkeypatch.setenv("AIOPS_TARGET", "kubernetes")
    with pytest.raises(ValueError, match="AIOPS_TARGET='kubernetes': set it to native or compose"):
        runstate.target()
