"""One duration grammar for the whole lab: Prometheus's, plus bare seconds and decimals.

Accepted: ``"90"`` and ``90`` / ``1.5`` (seconds), ``"250ms"``, ``"30s"``, ``"1.5h"``, and any Prometheus
duration (``"1h30m"``, ``"2d"``, ``"1w"``, ``"1y"``). The CLI's options, the drill files and the lab-mode
renderer all read this module, so "1m30s" means 90 s everywhere (it once meant 15 s in one place).

The renderer works in whole milliseconds (``parse_ms``/``format_ms``/``scale``) so "1h / 12" is an exact
"5m"; everything else asks for float seconds (``parse_seconds``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from aiops_core.errors import LabError

_UNITS_MS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000,
             "s": 1000, "ms": 1}
# A Prometheus duration: integer parts, largest unit first. Decimal parts ("1.5h") are a lab extension,
# accepted by parse_seconds only; the renderer writes what Prometheus 2.42 reads.
PROM_DURATION = r"(?:\d+(?:ms|[ywdhms]))+"
_PROM_FULL = re.compile(rf"^{PROM_DURATION}$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|[ywdhms])")
# Units used when writing a duration back, largest first (no y/w: "14d" reads better than "2w").
_FORMAT_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))
EXAMPLES = "e.g. 90, 90s, 15m, 1h30m, 250ms"


class DurationError(LabError, ValueError):
    """Not a duration. A ``ValueError`` too, so pydantic validators report it against their field."""


def parse_seconds(value: Any, what: str = "") -> float:
    """Seconds for a number or a duration string; ``DurationError`` names ``what`` (e.g. "--since") when given
    (a pydantic field needs no name: pydantic puts the field's path in front)."""
    name = f"{what} " if what else ""
    if isinstance(value, bool):
        raise DurationError(f"{name}expected a duration ({EXAMPLES}), not a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        raw = str(value).strip().lower()
        try:
            seconds = float(raw)
        except ValueError:
            parts = _PART.findall(raw)
            if not parts or "".join(n + u for n, u in parts) != raw:
                raise DurationError(f"{name}{value!r} is not a duration ({EXAMPLES})") from None
            seconds = sum(float(n) * _UNITS_MS[u] / 1000.0 for n, u in parts)
    if not math.isfinite(seconds):
        raise DurationError(f"{name}{value!r} is not a finite duration ({EXAMPLES})")
    if seconds < 0:
        raise DurationError(f"{name}{value!r} must not be negative")
    return seconds


def parse_ms(text: str) -> int:
    """A strict Prometheus duration -> milliseconds ('1h30m' -> 5400000). ``ValueError`` names the value."""
    text = str(text).strip()
    if not _PROM_FULL.match(text):
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
    """Divide a Prometheus duration by ``factor`` (whole milliseconds, rounded down), never below ``floor_ms``."""
    ms = parse_ms(text)
    if ms == 0:
        return format_ms(0)
    return format_ms(max(ms // factor, floor_ms))


def spoken(seconds: float) -> str:
    """A duration as people say it: ``45s``, ``3m 05s``, ``2h 10m``, ``3d 04h`` (the CLI and the pager's inbox)."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 2 * 86_400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86_400}d {seconds % 86_400 // 3600:02d}h"
