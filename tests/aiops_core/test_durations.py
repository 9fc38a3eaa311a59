"""One duration grammar: Prometheus durations, bare seconds and decimals, everywhere."""

from __future__ import annotations

import pytest

from aiops_core.durations import DurationError, format_ms, parse_ms, parse_seconds, scale
from aiops_core.errors import ExitStatus, LabError


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90.0), (90, 90.0), (1.5, 1.5), ("2.5", 2.5), ("250ms", 0.25), ("30s", 30.0), ("15m", 900.0),
    ("1h30m", 5400.0), ("1m30s", 90.0), ("2d", 172_800.0), ("1w", 604_800.0), ("1.5h", 5400.0), ("0", 0.0),
    (" 5M ", 300.0),
])
def test_seconds_from_every_accepted_form(text: object, seconds: float) -> None:
    assert parse_seconds(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-1s", "-5", "5 m", "1h-30m", "", "nan", "inf", "1x", True])
def test_a_bad_duration_is_a_usage_error_naming_the_option(bad: object) -> None:
    with pytest.raises(DurationError) as info:
        parse_seconds(bad, "--since")
    assert info.value.message.startswith("--since")
    assert isinstance(info.value, LabError) and info.value.status == ExitStatus.USAGE
    assert isinstance(info.value, ValueError)  # pydantic validators report it against their field


def test_prometheus_milliseconds_and_back() -> None:
    assert parse_ms("1h30m") == 5_400_000 and format_ms(5_400_000) == "90m"
    assert parse_ms("1m30s") == 90_000  # once read as 15 s by a second grammar
    assert [scale(d, 12) for d in ("5m", "1h", "30d")] == ["25s", "5m", "60h"]
    assert scale("1m", 12, floor_ms=8000) == "8s" and scale("0s", 12) == "0s"
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        parse_ms("1.5h")  # decimals are not Prometheus: the renderer must refuse what 2.42 would
