"""Durations typed on the command line ("90", "90s", "15m", "1h30m", "2d") -> seconds.

One parser for every option that takes a duration (--since, --duration, --window, ...). It is kept free of
heavy imports so a bad value is refused before sklearn, Evidently or Locust load.
"""

from __future__ import annotations

import re

from labs.cli.errors import LabError

_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str, option: str = "duration") -> float:
    """Seconds for ``text``; a bare number means seconds. LabError names the option and the accepted form."""
    raw = str(text).strip().lower()
    try:
        seconds = float(raw)
    except ValueError:
        parts = _PART.findall(raw)
        if not parts or "".join(n + u for n, u in parts) != raw:
            raise LabError(f"{option} {text!r} is not a duration; use e.g. 90s, 15m, 2h, 1h30m") from None
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds < 0 or seconds != seconds:
        raise LabError(f"{option} {text!r} must not be negative")
    return seconds
