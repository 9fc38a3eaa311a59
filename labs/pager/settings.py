"""Pager settings from the environment (prefix ``AIOPS_PAGER_``); the port comes from labs.topology."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from labs import paths
from labs.topology import LOOPBACK, PAGER


class PagerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOPS_PAGER_", extra="ignore")

    host: str = LOOPBACK
    port: int = Field(default_factory=PAGER.port, ge=1, le=65535)
    # How long the Watchdog may stay silent before the pager pages about it. Alertmanager re-sends the
    # Watchdog every repeat_interval, so this must be comfortably longer than that.
    heartbeat_timeout_s: float = Field(default=120.0, gt=0, le=86_400)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    db_path: Path = Field(default_factory=lambda: paths.state_dir() / "pager.db")
