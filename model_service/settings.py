"""Model-service settings, read from the environment (prefix ``AIOPS_``) or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiops_core import paths
from aiops_core.topology import LOOPBACK, MODEL_SERVICE, TRAFFIC_FEED


class Settings(BaseSettings):
    """Everything the service can be told at start-up. Runtime flags live in ``runtime_config``."""

    model_config = SettingsConfigDict(env_prefix="AIOPS_", env_file=".env", extra="ignore")

    host: str = LOOPBACK
    port: int = Field(default_factory=MODEL_SERVICE.port, ge=1, le=65535)
    state_dir: Path = Field(default_factory=paths.state_dir)
    models_dir: Path = Field(default_factory=paths.models_dir)
    prediction_log: Path = Field(default_factory=paths.prediction_log_path)

    # No default on purpose: without a token the admin API is disabled, never open.
    admin_token: str | None = None

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_batch_rows: int = Field(default=1000, ge=1, le=100_000)

    # Prediction-log durability: rows are committed in batches every ``log_flush_ms``; "sync" commits
    # before the response is sent (slower, nothing acknowledged is ever lost, even to kill -9).
    log_mode: Literal["batched", "sync"] = "batched"
    log_flush_ms: int = Field(default=50, ge=1, le=5000)
    log_queue_max_rows: int = Field(default=200_000, ge=1000)
    log_retention_days: float = Field(default=7.0, gt=0)
    log_retention_rows: int = Field(default=2_000_000, ge=1000)
    # How long one commit waits for another process's lock on the log (a backup, an open sqlite3 shell) before
    # it counts as a failed attempt, is logged and retried.
    log_busy_timeout_ms: int = Field(default=5000, ge=10, le=60_000)

    # Where rows that omit traffic_index are looked up (AIOPS_TRAFFIC_FEED_URL; by default the topology's
    # port, which AIOPS_TRAFFIC_FEED_PORT moves). Timeout and fallback are runtime flags, not settings.
    traffic_feed_url: str = Field(default_factory=lambda: f"http://{LOOPBACK}:{TRAFFIC_FEED.port()}")

    access_log: Literal["all", "errors", "off"] = "all"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("traffic_feed_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"AIOPS_TRAFFIC_FEED_URL={value!r} is not an http(s) URL; expected e.g. "
                             "http://127.0.0.1:8003")
        return value.rstrip("/")

    @field_validator("admin_token")
    @classmethod
    def _refuse_placeholder_token(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.lower() in {"changeme", "change-me", "secret", "token", "admin"} or len(value) < 12:
            raise ValueError("AIOPS_ADMIN_TOKEN is a placeholder or shorter than 12 characters; "
                             "generate one with: python -c 'import secrets; print(secrets.token_urlsafe())'")
        return value
