"""The current window: the newest predictions served by one model version, joined with their feedback.

Why one version only (the mid-window-deploy decision): a window that straddles a deploy mixes two models'
predictions and, after a retrain, two training distributions. Comparing that mixture with either
reference would report drift that is really the deploy, and keep reporting it until the old rows age
out -- exactly when a learner is checking whether a rollback or retrain worked. So the window holds only
rows served by the active version (the one being judged); rows of other versions are counted and shown,
never compared. Right after a deploy the monitor says "insufficient data" until the new version has
served ``min_rows`` rows, which is the truth: nothing is known about it yet.

The log is opened read-only with a short busy timeout per run, so a locked or missing log fails that run
quickly (counted as a failure) and the next run simply tries again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from aiops_core.errors import NotRunning
from model_service.features import FEATURE_NAMES
from model_service.prediction_log import connect

ACTUAL = "actual"
PREDICTION = "prediction"
BUSY_TIMEOUT_MS = 2000
_SELECT = (f"SELECT p.ts, {', '.join('p.' + n for n in FEATURE_NAMES)}, p.prediction, f.actual "
           "FROM predictions p LEFT JOIN feedback f ON f.prediction_id = p.id "
           "WHERE p.model_version = ? AND p.ts >= ? ORDER BY p.ts DESC LIMIT ?")
_OTHERS = ("SELECT model_version, COUNT(*) FROM predictions WHERE ts >= ? AND model_version != ? "
           "GROUP BY model_version")


class LogUnavailable(NotRunning):
    """The prediction log cannot be read right now (missing, locked, not a log); the message says which."""


@dataclass
class Window:
    """Rows (newest first) with the feature columns, ``prediction`` and ``actual`` (NaN without feedback)."""

    frame: pd.DataFrame
    version: str
    since_ts: float
    until_ts: float
    other_versions: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def labelled(self) -> int:
        return int(self.frame[ACTUAL].notna().sum())


def _float_frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """NULL -> NaN, and float dtype even for an empty or all-NULL column.

    One numpy conversion (half the time of a per-column ``pd.to_numeric``: issue 18); a value that is not a
    number (a log written by hand) takes the per-column path, which turns it into NaN.
    """
    try:
        return pd.DataFrame(np.array(rows, dtype=float).reshape(len(rows), len(columns)), columns=columns)
    except (TypeError, ValueError):
        frame = pd.DataFrame(rows, columns=columns)
        for name in columns:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
        return frame


def read_window(path: Path, version: str, now: float, window_s: float, window_rows: int) -> Window:
    """Rows served by ``version`` in the last ``window_s`` seconds, at most the newest ``window_rows``.

    ``window_s`` or ``window_rows`` of 0 lifts that limit.
    """
    path = Path(path)
    if not path.is_file():
        raise LogUnavailable(f"prediction log {path} does not exist (is the model service running with the "
                             "same AIOPS_STATE_DIR?)")
    since = now - window_s if window_s > 0 else 0.0
    limit = window_rows if window_rows > 0 else -1
    try:
        conn = connect(path, readonly=True)
    except sqlite3.Error as exc:
        raise LogUnavailable(f"prediction log {path} cannot be opened: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        rows = conn.execute(_SELECT, (version, since, limit)).fetchall()
        others = dict(conn.execute(_OTHERS, (since, version)).fetchall())
    except sqlite3.Error as exc:
        raise LogUnavailable(f"prediction log {path} cannot be read: {exc}") from None
    finally:
        conn.close()
    frame = _float_frame(rows, ["ts", *FEATURE_NAMES, PREDICTION, ACTUAL])
    until = float(frame["ts"].max()) if len(frame) else now
    if len(frame) and window_rows > 0 and len(frame) == window_rows:
        since = float(frame["ts"].min())  # the row cap, not the time limit, bounded this window
    return Window(frame=frame.drop(columns="ts"), version=version, since_ts=since, until_ts=until,
                  other_versions={str(k): int(v) for k, v in others.items()})

