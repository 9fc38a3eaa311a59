"""Traffic-feed settings from the environment (prefix ``AIOPS_TRAFFIC_FEED_``); the port from the topology."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiops_core.topology import LOOPBACK, TRAFFIC_FEED
from labs.traffic_feed import control
from labs.traffic_feed.app import DEFAULT_MAX_BODY_BYTES


class FeedSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOPS_TRAFFIC_FEED_", extra="ignore")

    host: str = LOOPBACK
    port: int = Field(default_factory=TRAFFIC_FEED.port, ge=1, le=65535)
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Where the drill engine puts a provider fault (<state>/drills/traffic-feed-fault.json).
    fault_file: Path = Field(default_factory=control.fault_path)
    # Enables /v1/control/fault for a drill engine that cannot write fault_file (compose: the engine runs on
    # the host, the file is in the container's volume). Unset natively: the endpoint answers 403.
    control_token: str | None = None
