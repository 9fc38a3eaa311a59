"""Prometheus duration strings ("90s", "5m", "1h30m") as milliseconds, and back.

Lab mode divides every rule window and ``for:`` by one factor. Doing that on parsed numbers (not on text)
keeps "1h / 12" an exact "5m" and lets the renderer refuse anything it does not understand.
"""

from __future__ import annotations

import re

_UNITS_MS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000,
             "s": 1000, "ms": 1}
_PART = re.compile(r"(\d+)(ms|[ywdhms])")
DURATION = r"(?:\d+(?:ms|[ywdhms]))+"
_FULL = re.compile(rf"^{DURATION}$")
# Units used when writing a duration back, largest first (no y/w: "14d" reads better than "2w").
_FORMAT_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def parse(text: str) -> int:
    """'1h30m' -> 5400000 (ms). Raises ValueError naming the bad value."""
    text = str(text).strip()
    if not _FULL.match(text):
        raise ValueError(f"{text!r} is not a Prometheus duration (examples: 30s, 5m, 1h30m)")
    return sum(int(n) * _UNITS_MS[u] for n, u in _PART.findall(text))


def format_ms(ms: int) -> str:
    """5400000 -> '90m': the largest single unit that divides exactly (PromQL in 2.42 reads it everywhere)."""
    if ms <= 0:
        return "0s"
    for unit, size in _FORMAT_UNITS:
        if ms % size == 0:
            return f"{ms // size}{unit}"
    raise AssertionError("unreachable: every ms value divides by 1")


def scale(text: str, factor: int, floor_ms: int = 0) -> str:
    """Divide a duration by ``factor`` (rounded down to whole milliseconds), never below ``floor_ms``."""
    ms = parse(text)
    if ms == 0:
        return format_ms(0)
    return format_ms(max(ms // factor, floor_ms))
