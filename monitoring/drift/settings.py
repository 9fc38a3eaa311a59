"""Drift-monitor settings from the environment (``AIOPS_DRIFT_*``), with lab and production defaults.

Why two sets of defaults: a drill must play out in minutes, so the native launcher runs the monitor with
``AIOPS_LAB_MODE=lab`` (short interval and window); the shipped production-like defaults are calmer. Every
value can still be set explicitly, and an explicit value always wins.

Why ``min_rows`` is 500: the normed Wasserstein distance between two samples of the *same* distribution
is not zero, and it shrinks only with the square root of the rows. Measured on the lab's generator against
a 2,000-row reference, the per-feature score averages ~0.10 at 200 rows, ~0.065 at 500 rows (99th
percentile 0.12-0.15) and ~0.05 at 1,000 rows. Below ``min_rows`` the monitor says "insufficient data"
instead of guessing; drift.yml's thresholds are set above the 500-row noise floor.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiops_core import paths
from aiops_core.settings import SettingsError, load
from aiops_core.topology import DRIFT_MONITOR, LOOPBACK

__all__ = ["DEFAULT_CONFIG", "DriftSettings", "SettingsError"]

DEFAULT_CONFIG = Path(__file__).with_name("drift.yml")

# name -> (lab default, production default)
_DEFAULTS: dict[str, tuple[float, float]] = {
    "interval_s": (30, 300),
    "window_s": (300, 3600),
    "window_rows": (5000, 20000),
    "min_rows": (500, 500),
    "min_feedback_rows": (50, 100),
    "reports_keep": (40, 48),
}


class DriftSettings(BaseSettings):
    """Everything the monitor is told at start-up. ``window_s`` or ``window_rows`` = 0 means no limit."""

    model_config = SettingsConfigDict(env_prefix="AIOPS_DRIFT_", extra="ignore", frozen=True)

    interval_s: float = Field(ge=1)
    window_s: float = Field(ge=0)
    window_rows: int = Field(ge=0)
    min_rows: int = Field(ge=10, description="below this a drift test is noise (see the module docstring)")
    min_feedback_rows: int = Field(ge=1)
    reports_keep: int = Field(ge=1)
    config_path: Path = Field(DEFAULT_CONFIG, validation_alias="AIOPS_DRIFT_CONFIG")
    prediction_log: Path = Field(default_factory=paths.prediction_log_path)
    models_dir: Path = Field(default_factory=paths.models_dir)
    reports_dir: Path = Field(default_factory=lambda: paths.reports_dir() / "drift")
    host: str = LOOPBACK
    port: int = Field(default_factory=DRIFT_MONITOR.port, ge=1, le=65535, validation_alias=DRIFT_MONITOR.port_env)

    @model_validator(mode="before")
    @classmethod
    def _mode_defaults(cls, values: Any) -> Any:
        """Lab defaults when ``AIOPS_LAB_MODE=lab``, production defaults otherwise; explicit values win."""
        if not isinstance(values, dict):
            return values
        column = 0 if os.environ.get("AIOPS_LAB_MODE", "production") == "lab" else 1
        return {**{name: pair[column] for name, pair in _DEFAULTS.items()}, **values}

    @model_validator(mode="after")
    def _window_holds_a_test(self) -> DriftSettings:
        if self.window_rows and self.window_rows < self.min_rows:
            raise ValueError(f"AIOPS_DRIFT_WINDOW_ROWS={self.window_rows} is below AIOPS_DRIFT_MIN_ROWS="
                             f"{self.min_rows}: every run would be 'insufficient data'; raise it or set 0")
        return self

    @classmethod
    def from_env(cls, **overrides: Any) -> DriftSettings:
        """Read ``AIOPS_DRIFT_*`` (lab defaults when ``AIOPS_LAB_MODE=lab``); ``overrides`` win over both."""
        return load(cls, **overrides)

    def describe(self) -> dict[str, str]:
        return {name: str(value) for name, value in self.model_dump().items()}
