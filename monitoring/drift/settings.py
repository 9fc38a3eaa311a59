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
from dataclasses import dataclass, fields
from pathlib import Path

from labs import paths
from labs.topology import DRIFT_MONITOR, LOOPBACK

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


class SettingsError(ValueError):
    """A setting is malformed; the message names the environment variable and the accepted values."""


@dataclass(frozen=True)
class DriftSettings:
    """Everything the monitor is told at start-up. ``window_s`` or ``window_rows`` = 0 means no limit."""

    interval_s: float
    window_s: float
    window_rows: int
    min_rows: int
    min_feedback_rows: int
    reports_keep: int
    config_path: Path
    prediction_log: Path
    models_dir: Path
    reports_dir: Path
    host: str
    port: int

    @classmethod
    def from_env(cls, **overrides: object) -> DriftSettings:
        """Read ``AIOPS_DRIFT_*`` (lab defaults when ``AIOPS_LAB_MODE=lab``); ``overrides`` win over both."""
        mode = os.environ.get("AIOPS_LAB_MODE", "production")
        column = 0 if mode == "lab" else 1
        values: dict[str, object] = {}
        for name, defaults in _DEFAULTS.items():
            values[name] = _number(f"AIOPS_DRIFT_{name.upper()}", defaults[column],
                                   integer=name not in ("interval_s", "window_s"))
        config = os.environ.get("AIOPS_DRIFT_CONFIG")
        values.update(
            config_path=Path(config).expanduser() if config else DEFAULT_CONFIG,
            prediction_log=paths.prediction_log_path(),
            models_dir=paths.models_dir(),
            reports_dir=paths.reports_dir() / "drift",
            host=os.environ.get("AIOPS_DRIFT_HOST", LOOPBACK),
            port=_port(),
        )
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        if self.interval_s < 1:
            raise SettingsError(f"AIOPS_DRIFT_INTERVAL_S={self.interval_s} is too short; use at least 1 (seconds)")
        if self.min_rows < 10:
            raise SettingsError(f"AIOPS_DRIFT_MIN_ROWS={self.min_rows} is too small for a drift test; use >= 10")
        if self.min_feedback_rows < 1:
            raise SettingsError("AIOPS_DRIFT_MIN_FEEDBACK_ROWS must be at least 1")
        if self.reports_keep < 1:
            raise SettingsError(f"AIOPS_DRIFT_REPORTS_KEEP={self.reports_keep} would keep nothing; use >= 1")
        if self.window_rows and self.window_rows < self.min_rows:
            raise SettingsError(f"AIOPS_DRIFT_WINDOW_ROWS={self.window_rows} is below AIOPS_DRIFT_MIN_ROWS="
                                f"{self.min_rows}: every run would be 'insufficient data'; raise it or set 0")

    def describe(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}


def _number(env: str, default: float, integer: bool) -> float | int:
    raw = os.environ.get(env, "").strip()
    if not raw:
        return int(default) if integer else float(default)
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SettingsError(f"{env}={raw!r} is not {kind}; e.g. {env}={int(default)}") from None
    if value < 0:
        raise SettingsError(f"{env}={raw} is negative; use 0 or more")
    return value


def _port() -> int:
    try:
        return DRIFT_MONITOR.port()
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
