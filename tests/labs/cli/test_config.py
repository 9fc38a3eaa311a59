"""``aiops-lab config set``: VALUE is read as the flag's type, as ``--help`` says, against the real service.

A learner's report (issue 12): ``config set traffic_feed null`` was parsed as JSON null and refused with a
422 for a value the flag lists. Words are words; numbers and booleans follow the flag's type; a value the
flag does not take is refused by the CLI, naming the flag and what it accepts, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiops_core.errors import ExitStatus
from tests.support.lab import Lab
from tests.support.processes import ADMIN_TOKEN, ServiceUnderTest, service_with_registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, trained_registry: Path) -> Iterator[ServiceUnderTest]:
    """One real service for the module: each test states the flag values it relies on."""
    with service_with_registry(tmp_path_factory.mktemp("config-service") / "state", trained_registry) as svc:
        yield svc


@pytest.fixture
def lab(service: ServiceUnderTest, tmp_path: Path) -> Lab:
    """The CLI pointed at the real model service (its admin token, its URL)."""
    return Lab.create(tmp_path / "cli-state", AIOPS_MODEL_SERVICE_URL=service.url, AIOPS_ADMIN_TOKEN=ADMIN_TOKEN)


def _config(service: ServiceUnderTest) -> dict[str, Any]:
    with service.client() as client:
        return {
            "flags": client.get("/admin/config", headers=service.admin_headers).json()["flags"],
            "history": client.get("/admin/config/history", headers=service.admin_headers).json()["changes"],
        }


def test_the_word_null_is_a_value_of_traffic_feed_not_json_null(lab: Lab, service: ServiceUnderTest) -> None:
    result = lab.run("config", "set", "traffic_feed", "null", "--reason", "drill: broken feed")
    assert result.exit_code == 0, result.output
    assert '-> "null"' in result.text
    assert _config(service)["flags"]["traffic_feed"] == "null"
    assert _config(service)["history"][-1]["reason"] == "drill: broken feed"


@pytest.mark.parametrize(("flag", "text", "value"), [
    ("error_ratio", "0.25", 0.25),
    ("extra_latency_ms", "150", 150),
    ("explanations_enabled", "true", True),
    ("explanations_enabled", "off", False),
    ("traffic_feed", "zero", "zero"),
    ("traffic_feed", '"zero"', "zero"),  # JSON-quoted, as the old help suggested: the same word
    ("traffic_feed_fallback", "impute", "impute"),
])
def test_values_are_read_as_the_flags_type(lab: Lab, service: ServiceUnderTest, flag: str, text: str,
                                           value: object) -> None:
    result = lab.run("config", "set", flag, text)
    assert result.exit_code == 0, result.output
    stored = _config(service)["flags"][flag]
    assert stored == value and type(stored) is type(value)


@pytest.mark.parametrize(("flag", "text", "accepted"), [
    ("traffic_feed", "broken", "one of: live, zero, null"),
    ("traffic_feed_fallback", "none", "one of: fail, impute"),  # none empties only a flag that may be empty
    ("error_ratio", "2", "a number from 0 to 1"),
    ("error_ratio", "null", "a number from 0 to 1"),
    ("extra_latency_ms", "1.5", "an integer from 0 to 30000"),
    ("explanations_enabled", "maybe", "true or false"),
])
def test_a_value_the_flag_does_not_take_names_the_flag_and_what_it_accepts(
        lab: Lab, service: ServiceUnderTest, flag: str, text: str, accepted: str) -> None:
    before = _config(service)
    result = lab.run("config", "set", flag, text)
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert f"error: {flag}: {text!r} is not accepted; use {accepted}" in result.text, result.output
    assert _config(service) == before, "nothing was changed or recorded"


def test_an_unknown_flag_lists_the_known_ones(lab: Lab) -> None:
    result = lab.run("config", "set", "error_rate", "0.1")
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert "unknown flag 'error_rate'" in result.text and "error_ratio" in result.text


def test_get_says_what_each_flag_accepts(lab: Lab) -> None:
    result = lab.run("config", "get")
    assert result.exit_code == 0, result.output
    assert "Accepts one of: live, zero, null." in result.text and "Accepts a number from 0 to 1." in result.text


def test_the_help_says_how_values_are_read(lab: Lab) -> None:
    result = lab.run("config", "set", "--help")
    assert result.exit_code == 0, result.output
    assert "bare (no quotes needed)" in result.text and "null or none" in result.text
    assert "JSON" not in result.text


def test_a_refused_value_is_an_error_line_not_a_traceback(lab: Lab) -> None:
    """As a learner runs it: ``main()`` in its own process."""
    done = lab.cli("config", "set", "error_ratio", "1.5", timeout=60)
    assert done.returncode == ExitStatus.USAGE, done.stdout + done.stderr
    assert done.stderr.startswith("error: error_ratio: '1.5' is not accepted; use a number from 0 to 1")
    assert "Traceback" not in done.stderr
