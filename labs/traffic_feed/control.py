"""The traffic feed's fault control: a file in ``<state>/drills/`` that only the drill engine writes.

Why a file rather than state inside the feed:

* it survives restarts: a restarted feed reads it again, so "restart everything" is no mitigation -- the
  provider's outage is not in the lab's hands, exactly as with a real third-party dependency;
* natively, rolling it back never depends on the feed: ``drill stop`` deletes a file even when the feed is
  hung, killed or was never started, and a crashed CLI leaves a rollback that is still just a delete;
* none of the learner's levers (``aiops-lab config|model|service``, the model service's admin API) can
  reach it, and natively there is no secret to hand out or leak;
* it is the same pattern as the drill's other world state (``upstream.json``).

On compose the engine runs on the host and the file lives in the container's volume, so the feed also
offers ``/v1/control/fault`` (see ``app.py``, client in ``remote.py``), which writes the same file. It is
enabled only by a control token, which compose sets to the lab's admin token (the one credential the host
engine holds there) and the native lab never sets.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aiops_core import paths
from aiops_core.atomic import atomic_write

log = logging.getLogger("aiops.traffic_feed")
FILE_NAME = "traffic-feed-fault.json"


class FeedFault(BaseModel):
    """What the provider is doing wrong: answering slowly (``delay_ms`` per lookup) or not at all (503)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["slow", "down"]
    delay_ms: int = Field(0, ge=0, le=60_000)
    note: str = Field("", max_length=300)
    since: float = Field(default_factory=time.time)

    @model_validator(mode="after")
    def _delay_fits_mode(self) -> FeedFault:
        check_delay_fits_mode(self.mode, self.delay_ms)
        return self


def check_delay_fits_mode(mode: str, delay_ms: int) -> None:
    """A slow provider has a delay, a down one has none (shared with the drill's dependency fault)."""
    if mode == "slow" and delay_ms == 0:
        raise ValueError("delay_ms: a slow dependency needs delay_ms > 0")
    if mode == "down" and delay_ms:
        raise ValueError("delay_ms: only a slow dependency has a delay")


def fault_path(state_dir: Path | None = None) -> Path:
    return (state_dir or paths.state_dir()) / "drills" / FILE_NAME


def write(fault: FeedFault, path: Path) -> None:
    """Atomically: the feed never reads half a file."""
    atomic_write(path, fault.model_dump_json(indent=2))


def clear(path: Path) -> bool:
    """Remove the fault; True when there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def read(path: Path) -> FeedFault | None:
    """The fault in ``path``; None when there is none. A damaged file counts as no fault (and is logged):
    the safe reading of a control file nobody can vouch for is "healthy"."""
    try:
        return FeedFault.model_validate_json(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError, ValueError) as exc:
        log.warning("ignoring an unreadable fault file", extra={"path": str(path), "error": str(exc)[:200]})
        return None


class FaultWatcher:
    """The current fault, re-checked at most every ``ttl_s`` (a stat, and a read only when it changed)."""

    def __init__(self, path: Path, ttl_s: float = 0.25) -> None:
        self.path = path
        self.ttl_s = ttl_s
        self._checked = -1e9
        self._signature: tuple[int, int, int] | None = None
        self._fault: FeedFault | None = None

    def current(self) -> FeedFault | None:
        now = time.monotonic()
        if now - self._checked < self.ttl_s:
            return self._fault
        self._checked = now
        try:
            st = self.path.stat()
        except OSError:
            signature = None
        else:
            signature = (st.st_mtime_ns, st.st_size, st.st_ino)
        if signature != self._signature:
            self._signature = signature
            fault = read(self.path) if signature is not None else None
            if fault != self._fault:
                log.info("lookup behaviour changed", extra={"mode": fault.mode if fault else "normal",
                                                            "delay_ms": fault.delay_ms if fault else 0})
            self._fault = fault
        return self._fault
