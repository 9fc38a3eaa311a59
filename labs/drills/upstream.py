"""The drill's upstream clients and their release history (``<state>/drills/upstream.json``).

Two clients call the model service during a drill, like the teams around a real one:

* ``checkout-api`` sends ``/predict`` requests (rate, batches, and the data it sends -- its releases can
  rename a field or change a unit);
* ``label-pipeline`` joins delivered orders to predictions and posts ground truth to ``/feedback``.

Their state is a small JSON file the traffic process re-reads every second. A release of ``checkout-api`` is
recorded with who shipped it, and can be rolled back -- the learner's lever when an upstream change breaks
the model (``aiops-lab drill upstream rollback checkout-api``): in real life, asking the owning team to roll
back. A stalled label pipeline is restarted with ``aiops-lab drill upstream restart label-pipeline``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from aiops_core.atomic import atomic_write
from aiops_core.errors import Conflict
from labs.drills.journal import drills_dir
from labs.drills.schema_base import CheckoutRelease

CLIENTS = ("checkout-api", "label-pipeline")


class LabelPipeline(BaseModel):
    version: str = "1.8.2"
    feedback_ratio: float = 0.5
    status: Literal["running", "stalled"] = "running"


class UpstreamState(BaseModel):
    checkout: CheckoutRelease = Field(default_factory=CheckoutRelease)
    checkout_previous: list[CheckoutRelease] = Field(default_factory=list)
    labels: LabelPipeline = Field(default_factory=LabelPipeline)
    history: list[dict[str, Any]] = Field(default_factory=list)


class UpstreamError(Conflict, ValueError):
    """An upstream action is not possible; the message says what to do instead."""


def state_path(state: Path | None = None) -> Path:
    return drills_dir(state) / "upstream.json"


def load(state: Path | None = None) -> UpstreamState | None:
    path = state_path(state)
    if not path.is_file():
        return None
    try:
        return UpstreamState.model_validate_json(path.read_text())
    except ValueError:
        return None


def save(state: UpstreamState) -> None:
    atomic_write(state_path(), state.model_dump_json(indent=2))


def reset() -> None:
    state_path().unlink(missing_ok=True)


def _entry(client: str, action: str, actor: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"time": datetime.now(UTC).isoformat(), "ts": time.time(), "client": client, "action": action,
            "actor": actor, "detail": detail, **extra}


def release(state: UpstreamState, version: str, change: dict[str, Any], actor: str, note: str) -> dict[str, Any]:
    """Ship a new checkout-api release (the old one is kept for rollback)."""
    new = state.checkout.model_copy(update={**change, "version": version})
    CheckoutRelease.model_validate(new.model_dump())
    entry = _entry("checkout-api", "release", actor, note, old=state.checkout.version, new=version,
                   change=change)
    state.checkout_previous.append(state.checkout)
    state.checkout = new
    state.history.append(entry)
    return entry


def surge(state: UpstreamState, rate_per_s: float, note: str) -> dict[str, Any]:
    """More demand: the same release sends more requests (there is no release to roll back)."""
    entry = _entry("checkout-api", "demand", "customers", note, old_rate=state.checkout.rate_per_s,
                   new_rate=rate_per_s)
    state.checkout = state.checkout.model_copy(update={"rate_per_s": rate_per_s})
    state.history.append(entry)
    return entry


def shift_world(state: UpstreamState, scenario: str, note: str) -> dict[str, Any]:
    """The world changes (new city, courier pay change): same release, different data and labels."""
    entry = _entry("checkout-api", "world", "reality", note)
    state.checkout = state.checkout.model_copy(update={"scenario": scenario})
    CheckoutRelease.model_validate(state.checkout.model_dump())
    state.history.append(entry)
    return entry


def rollback(state: UpstreamState, client: str, actor: str) -> dict[str, Any]:
    """Roll ``checkout-api`` back to its previous release, keeping today's demand (rate)."""
    if client != "checkout-api":
        raise UpstreamError(f"{client} has no releases to roll back; clients with releases: checkout-api")
    if not state.checkout_previous:
        raise UpstreamError(f"checkout-api {state.checkout.version} has no earlier release to roll back to")
    previous = state.checkout_previous.pop()
    rate = state.checkout.rate_per_s
    entry = _entry(client, "rollback", actor, f"rolled back {state.checkout.version} -> {previous.version}",
                   old=state.checkout.version, new=previous.version)
    state.checkout = previous.model_copy(update={"rate_per_s": rate})
    state.history.append(entry)
    return entry


def stall(state: UpstreamState, note: str) -> dict[str, Any]:
    entry = _entry("label-pipeline", "stalled", "label-pipeline", note)
    state.labels = state.labels.model_copy(update={"status": "stalled"})
    state.history.append(entry)
    return entry


def restart(state: UpstreamState, client: str, actor: str) -> dict[str, Any]:
    """Restart a client's workers: clears a stall (a restart does not undo a release)."""
    if client not in CLIENTS:
        raise UpstreamError(f"unknown upstream client {client!r}; clients: {', '.join(CLIENTS)}")
    entry = _entry(client, "restart", actor, f"{client} workers restarted")
    if client == "label-pipeline":
        state.labels = state.labels.model_copy(update={"status": "running"})
    state.history.append(entry)
    return entry


def describe(state: UpstreamState) -> list[list[str]]:
    """Rows for ``aiops-lab drill upstream``: client, version, status, what it does."""
    c = state.checkout
    sends = f"{c.rate_per_s:g} req/s"
    if c.batch_share:
        sends += f", {c.batch_share:.0%} as batches of {c.batch_size}"
    if c.mobile_share:
        sends += f", {c.mobile_share:.0%} from the mobile app (no traffic_index: the service looks it up)"
    last = {e["client"]: e for e in state.history}
    return [
        ["checkout-api", c.version, "running", sends, _when(last.get("checkout-api"))],
        ["label-pipeline", state.labels.version, state.labels.status,
         f"labels {state.labels.feedback_ratio:.0%} of predictions", _when(last.get("label-pipeline"))],
    ]


def _when(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return ""
    return f"{entry['time'][11:19]} {entry['action']} by {entry['actor']}: {entry['detail']}"


def dump_json(state: UpstreamState) -> str:
    return json.dumps(state.model_dump(), indent=2)
