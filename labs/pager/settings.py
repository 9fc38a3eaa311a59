"""Pager settings from the environment (prefix ``AIOPS_PAGER_``); the port comes from aiops_core.topology.

The write endpoints (Alertmanager's webhooks, acknowledgements, the drill marker) need the lab's token:
``AIOPS_ADMIN_TOKEN``, else the ``admin-token`` file ``aiops-lab up`` keeps in the state dir. The heartbeat
timeout defaults by mode (``AIOPS_LAB_MODE``), like the drift monitor's intervals: see monitoring/heartbeat.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiops_core import paths
from aiops_core.runstate import admin_token
from aiops_core.topology import LOOPBACK, PAGER
from monitoring.heartbeat import heartbeat_timeout_s

MIN_TOKEN_CHARS = 12


def _mode_timeout() -> float:
    return heartbeat_timeout_s(os.environ.get("AIOPS_LAB_MODE", "production") == "lab")


class PagerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOPS_PAGER_", extra="ignore")

    host: str = LOOPBACK
    port: int = Field(default_factory=PAGER.port, ge=1, le=65535)
    heartbeat_timeout_s: float = Field(default_factory=_mode_timeout, gt=0, le=86_400)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    db_path: Path = Field(default_factory=lambda: paths.state_dir() / "pager.db")
    # No token: the write endpoints refuse every request (403), they are never open.
    token: str | None = Field(default_factory=admin_token, validation_alias="AIOPS_ADMIN_TOKEN")

    @field_validator("token")
    @classmethod
    def _usable_token(cls, value: str | None) -> str | None:
        if not value:
            return None
        if len(value) < MIN_TOKEN_CHARS:
            raise ValueError(f"shorter than {MIN_TOKEN_CHARS} characters; generate one with: "
                             "python -c 'import secrets; print(secrets.token_urlsafe())'")
        return value
