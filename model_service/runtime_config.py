"""Runtime config flags: what operators (and injected faults) change without a redeploy.

Flags persist in the state directory, so a restart does *not* undo a bad flag -- exactly as with a real
config service, and why "restart it" is the wrong mitigation for a config-caused incident. Every change is
appended to a history file (time, actor, reason, old -> new): the config-change log an on-call engineer
reads first.
"""

from __future__ import annotations

import json
import threading
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aiops_core.atomic import atomic_write


class RuntimeConfig(BaseModel):
    """The flags. Field descriptions are the documentation shown by ``aiops-lab config get``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    extra_latency_ms: int = Field(0, ge=0, le=30_000,
                                  description="Delay added to every /predict (a slow step on the request path).")
    error_ratio: float = Field(0.0, ge=0.0, le=1.0,
                               description="Share of /predict requests answered with HTTP 500.")
    explanations_enabled: bool = Field(
        False, description="Attach per-feature explanations to every prediction (expensive: a sampling "
        "explainer runs on the request path).")
    traffic_feed: Literal["live", "zero", "null"] = Field(
        "live", description="Where traffic_index comes from. live: the client's value, or a lookup in the "
        "traffic feed for rows that omit it; zero / null: a broken feed integration that serves 0 / no "
        "reading for every row (client values included; no lookups).")
    traffic_feed_timeout_ms: int = Field(
        2000, ge=10, le=30_000, description="How long a traffic-feed lookup may take (per connect / send / "
        "wait for the answer) before it counts as failed; rows that carry traffic_index never wait for it.")
    traffic_feed_fallback: Literal["fail", "impute"] = Field(
        "fail", description="When a traffic-feed lookup fails or times out. fail: /predict answers 503 "
        "naming the dependency; impute: serve the rows with traffic_index missing (imputed, counted as "
        "missing) -- degraded ETAs instead of none.")
    traffic_feed_breaker_enabled: bool = Field(
        False, description="Circuit breaker around traffic-feed lookups: after traffic_feed_breaker_failures "
        "consecutive timeouts or errors, stop calling the feed and apply traffic_feed_fallback at once (no "
        "wait); after traffic_feed_breaker_cooldown_ms one background probe lookup decides whether to resume.")
    traffic_feed_breaker_failures: int = Field(
        5, ge=1, le=1000, description="Consecutive failed traffic-feed lookups that open the circuit breaker.")
    traffic_feed_breaker_cooldown_ms: int = Field(
        5000, ge=100, le=600_000, description="How long an open circuit breaker skips the traffic feed before "
        "it probes it again (one lookup; success closes the breaker, failure keeps it open).")
    memory_leak_kb_per_request: int = Field(
        0, ge=0, le=1024, description="Response cache that never evicts: KiB retained per /predict.")
    cpu_burn_ms: int = Field(0, ge=0, le=5000, description="Busy CPU work added to every /predict.")

    def numeric(self) -> dict[str, float]:
        """Flag values as numbers, for the ``aiops_config_flag`` gauge (enums as their index)."""
        out: dict[str, float] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, str):
                out[name] = float(get_args(type(self).model_fields[name].annotation).index(value))
            else:
                out[name] = float(value)
        return out


FLAG_NAMES: tuple[str, ...] = tuple(RuntimeConfig.model_fields)


def flag_type(flag: str) -> tuple[Any, bool]:
    """FLAG's value type without ``| None``, and whether it may be None (no value)."""
    annotation = RuntimeConfig.model_fields[flag].annotation
    if get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation):
        [kind] = [a for a in get_args(annotation) if a is not type(None)]  # a flag has one type
        return kind, True
    return annotation, False


def accepted_values(flag: str) -> str:
    """What FLAG accepts, in words, from its type and bounds: the API's 422 and the CLI's errors say it."""
    kind, optional = flag_type(flag)
    low = high = None
    for bound in RuntimeConfig.model_fields[flag].metadata:
        if isinstance(bound, annotated_types.Ge):
            low = bound.ge
        elif isinstance(bound, annotated_types.Le):
            high = bound.le
    if get_origin(kind) is Literal:
        words = "one of: " + ", ".join(str(a) for a in get_args(kind))
    elif kind is bool:
        words = "true or false"
    elif kind in (int, float):
        words = "an integer" if kind is int else "a number"
        if low is not None and high is not None:
            words += f" from {low:g} to {high:g}"
        elif low is not None or high is not None:
            words += f" of at least {low:g}" if low is not None else f" of at most {high:g}"
    else:
        words = "a word"
    return words + (", or null for none" if optional else "")


class ConfigError(ValueError):
    """A flag change was refused; ``field`` names the flag."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


class ConfigStore:
    """Flags on disk plus their change history; thread-safe within one process."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / "runtime_config.json"
        self.history_path = Path(state_dir) / "config_history.jsonl"
        self._lock = threading.Lock()
        self.current = self._load()

    def _load(self) -> RuntimeConfig:
        if not self.path.is_file():
            return RuntimeConfig()
        try:
            return RuntimeConfig.model_validate_json(self.path.read_text())
        except ValidationError as exc:
            raise ConfigError("runtime_config", f"{self.path} is invalid ({exc.errors()[0]['msg']}); "
                              "fix or delete it, then restart") from exc

    def set(self, flag: str, value: Any, actor: str, reason: str = "") -> dict[str, Any]:
        """Apply one change, persist it, and record it. Returns the history entry."""
        if flag not in FLAG_NAMES:
            raise ConfigError(flag, f"unknown flag {flag!r}; known flags: {', '.join(FLAG_NAMES)}", 404)
        with self._lock:
            old = getattr(self.current, flag)
            try:
                updated = RuntimeConfig.model_validate({**self.current.model_dump(), flag: value})
            except ValidationError as exc:
                raise ConfigError(flag, f"{flag}: {exc.errors()[0]['msg']}; accepted: {accepted_values(flag)}"
                                  ) from exc
            new = getattr(updated, flag)
            atomic_write(self.path, updated.model_dump_json(indent=2), fsync=True)
            self.current = updated
            entry = {"time": datetime.now(UTC).isoformat(), "flag": flag, "old": old, "new": new,
                     "actor": actor, "reason": reason}
            with self.history_path.open("a") as fh:
                fh.write(json.dumps(entry) + "\n")
        return entry

    def history(self, limit: int = 200) -> list[dict[str, Any]]:
        if not self.history_path.is_file():
            return []
        lines = self.history_path.read_text().splitlines()[-limit:]
        return [json.loads(line) for line in lines if line.strip()]
