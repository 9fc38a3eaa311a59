"""Pager settings from the environment (prefix ``AIOPS_PAGER_``); the port comes from aiops_core.topology."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiops_core import paths
from aiops_core.topology import LOOPBACK, PAGER
from monitoring.heartbeat import HEARTBEAT_TIMEOUT_S


class PagerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOPS_PAGER_", extra="ignore")

    host: str = LOOPBACK
    port: int = Field(default_factory=PAGER.port, ge=1, le=65535)
    heartbeat_timeout_s: float = Field(default=HEARTBEAT_TIMEOUT_S, gt=0, le=86_400)  # see monitoring/heartbeat.py
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    db_path: Path = Field(default_factory=lambda: paths.state_dir() / "pager.db")
