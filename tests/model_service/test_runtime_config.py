"""Runtime flags persist across restarts and every change is recorded with who, why, and old -> new."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_service.runtime_config import FLAG_NAMES, ConfigError, ConfigStore, RuntimeConfig, accepted_values


def test_defaults_are_harmless(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    assert store.current == RuntimeConfig()
    # The traffic-feed timeout default is generous on purpose (the classic mistake the dependency drills teach);
    # it only applies to requests that omit traffic_index.
    assert store.current.numeric() == {"extra_latency_ms": 0.0, "error_ratio": 0.0, "explanations_enabled": 0.0,
                                       "traffic_feed": 0.0, "traffic_feed_timeout_ms": 2000.0,
                                       "traffic_feed_fallback": 0.0, "memory_leak_kb_per_request": 0.0,
                                       "cpu_burn_ms": 0.0, "traffic_feed_breaker_enabled": 0.0,
                                       "traffic_feed_breaker_failures": 5.0,
                                       "traffic_feed_breaker_cooldown_ms": 5000.0}
    assert set(store.current.numeric()) == set(FLAG_NAMES)
    assert store.history() == []


def test_change_persists_and_is_recorded(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    entry = store.set("extra_latency_ms", 250, actor="alice", reason="drill")
    assert {k: entry[k] for k in ("flag", "old", "new", "actor", "reason")} == {
        "flag": "extra_latency_ms", "old": 0, "new": 250, "actor": "alice", "reason": "drill"}
    store.set("traffic_feed", "null", actor="bob")

    reopened = ConfigStore(tmp_path)  # what a restarted service sees
    assert reopened.current.extra_latency_ms == 250
    assert reopened.current.traffic_feed == "null"
    assert reopened.current.numeric()["traffic_feed"] == 2.0
    assert [(h["flag"], h["old"], h["new"], h["actor"]) for h in reopened.history()] == [
        ("extra_latency_ms", 0, 250, "alice"), ("traffic_feed", "live", "null", "bob")]
    assert [h["flag"] for h in reopened.history(limit=1)] == ["traffic_feed"]


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("error_ratio", 1.5, "less than or equal to 1"),
    ("error_ratio", "abc", "valid number"),
    ("extra_latency_ms", -1, "greater than or equal to 0"),
    ("traffic_feed", "broken", "'live', 'zero' or 'null'"),
    ("explanations_enabled", "maybe", "valid boolean"),
])
def test_invalid_values_are_refused_and_change_nothing(tmp_path: Path, flag: str, value: object,
                                                       message: str) -> None:
    store = ConfigStore(tmp_path)
    with pytest.raises(ConfigError, match=message) as info:
        store.set(flag, value, actor="x")
    assert info.value.field == flag and info.value.status == 422
    assert str(info.value).startswith(f"{flag}: ")
    assert str(info.value).endswith(f"; accepted: {accepted_values(flag)}")  # what to send instead
    assert store.current == RuntimeConfig()
    assert store.history() == [] and not store.path.exists()


def test_unknown_flag_is_404_listing_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="known flags: extra_latency_ms") as info:
        ConfigStore(tmp_path).set("turbo", True, actor="x")
    assert info.value.status == 404 and info.value.field == "turbo"


def test_corrupt_file_names_the_fix(tmp_path: Path) -> None:
    (tmp_path / "runtime_config.json").write_text('{"error_ratio": 7}')
    with pytest.raises(ConfigError, match="fix or delete it, then restart"):
        ConfigStore(tmp_path)


def test_every_flag_says_in_words_what_it_accepts() -> None:
    """Read from each flag's type and bounds: the 422 of the API and the CLI's refusals quote it."""
    assert {flag: accepted_values(flag) for flag in FLAG_NAMES} == {
        "extra_latency_ms": "an integer from 0 to 30000",
        "error_ratio": "a number from 0 to 1",
        "explanations_enabled": "true or false",
        "traffic_feed": "one of: live, zero, null",
        "traffic_feed_timeout_ms": "an integer from 10 to 30000",
        "traffic_feed_fallback": "one of: fail, impute",
        "memory_leak_kb_per_request": "an integer from 0 to 1024",
        "cpu_burn_ms": "an integer from 0 to 5000",
        "traffic_feed_breaker_enabled": "true or false",
        "traffic_feed_breaker_failures": "an integer from 1 to 1000",
        "traffic_feed_breaker_cooldown_ms": "an integer from 100 to 600000",
    }
