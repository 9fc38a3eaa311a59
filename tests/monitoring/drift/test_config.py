"""drift.yml and the AIOPS_DRIFT_* settings: explicit tests for every feature, clear errors naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model_service.features import FEATURE_NAMES
from monitoring.drift.config import DriftConfigError, load, parse
from monitoring.drift.settings import DEFAULT_CONFIG, DriftSettings, SettingsError

SRC = Path("drift.yml")


def test_shipped_config_sets_every_feature_explicitly() -> None:
    config = load(DEFAULT_CONFIG)
    assert list(config.features) == list(FEATURE_NAMES)
    assert config.features["is_peak_hour"].method == "jensenshannon"
    continuous = [n for n in FEATURE_NAMES if n != "is_peak_hour"]
    assert {config.features[n].method for n in continuous} == {"wasserstein"}
    assert config.prediction.method == "wasserstein" and config.dataset_drift_share == 0.5


@pytest.mark.parametrize(("raw", "key"), [
    ({"features": {"distance_miles": {"method": "psi", "threshold": 0.1}}}, "features.distance_miles"),
    ({"features": {"distance_km": {"method": "wassersteinn", "threshold": 0.1}}}, "features.distance_km.method"),
    ({"features": {"distance_km": {"method": "psi"}}}, "features.distance_km.threshold"),
    ({"features": {"distance_km": {"method": "psi", "threshold": "high"}}}, "features.distance_km.threshold"),
    ({"features": {"distance_km": {"method": "ks", "threshold": 5}}}, "features.distance_km.threshold"),
    ({"features": {"distance_km": {"method": "chisquare", "threshold": 0.05}}}, "features.distance_km.method"),
    ({"features": {"distance_km": {"method": "psi", "threshold": 0.1, "bins": 3}}}, "features.distance_km.bins"),
    ({"default": {"method": "ks", "threshold": 0.05}}, "default.method"),  # K-S cannot test is_peak_hour
    ({"dataset_drift_share": 1.5}, "dataset_drift_share"),
    ({"prediction": {"method": "chisquare", "threshold": 0.05},
      "features": {"is_peak_hour": {"method": "jensenshannon", "threshold": 0.1}}}, "prediction.method"),
    ({}, "default.method"),  # the fallback (Wasserstein) cannot test the 0/1 is_peak_hour: list it
    ({"thresholds": {}}, "thresholds"),
])
def test_malformed_config_names_the_key(raw: dict, key: str) -> None:
    with pytest.raises(DriftConfigError, match=re.escape(f"drift.yml: {key}:")):
        parse(raw, SRC)


def test_invalid_yaml_and_missing_file_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "drift.yml"
    bad.write_text("features: [unclosed\n")
    with pytest.raises(DriftConfigError, match="not valid YAML"):
        load(bad)
    with pytest.raises(DriftConfigError, match="AIOPS_DRIFT_CONFIG"):
        load(tmp_path / "nope.yml")


def test_a_listed_feature_overrides_the_default() -> None:
    config = parse({"default": {"method": "psi", "threshold": 0.2},
                    "features": {"is_peak_hour": {"method": "chisquare", "threshold": 0.01}}}, SRC)
    assert config.features["distance_km"].method == "psi"
    assert config.features["is_peak_hour"].method == "chisquare"
    assert config.features["is_peak_hour"].higher_is_drift is False


def test_settings_lab_mode_defaults_and_explicit_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOPS_LAB_MODE", "lab")
    assert DriftSettings.from_env().interval_s == 30
    monkeypatch.setenv("AIOPS_DRIFT_INTERVAL_S", "12.5")
    monkeypatch.setenv("AIOPS_DRIFT_REPORTS_KEEP", "3")
    monkeypatch.setenv("AIOPS_DRIFT_MONITOR_PORT", "18001")
    settings = DriftSettings.from_env()
    assert (settings.interval_s, settings.reports_keep, settings.port) == (12.5, 3, 18001)
    monkeypatch.delenv("AIOPS_LAB_MODE")
    monkeypatch.delenv("AIOPS_DRIFT_INTERVAL_S")
    assert DriftSettings.from_env().interval_s == 300


@pytest.mark.parametrize(("env", "value", "message"), [
    ("AIOPS_DRIFT_WINDOW_ROWS", "lots", "AIOPS_DRIFT_WINDOW_ROWS='lots': Input should be a valid integer"),
    ("AIOPS_DRIFT_MIN_ROWS", "5", "AIOPS_DRIFT_MIN_ROWS='5': Input should be greater than or equal to 10"),
    ("AIOPS_DRIFT_REPORTS_KEEP", "0", "AIOPS_DRIFT_REPORTS_KEEP='0': Input should be greater than or equal to 1"),
    ("AIOPS_DRIFT_INTERVAL_S", "-1", "AIOPS_DRIFT_INTERVAL_S='-1': Input should be greater than or equal to 1"),
    ("AIOPS_DRIFT_WINDOW_ROWS", "100", "below AIOPS_DRIFT_MIN_ROWS"),
    ("AIOPS_DRIFT_MONITOR_PORT", "99999", "AIOPS_DRIFT_MONITOR_PORT='99999': Input should be less than or equal"),
])
def test_malformed_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, env: str, value: str,
                                              message: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError, match=re.escape(message)):
        DriftSettings.from_env()
