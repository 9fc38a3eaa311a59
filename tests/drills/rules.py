"""How fast an alert can page in lab mode, read from the alerting rules themselves (never hard-coded).

Two numbers per alert, taken from its fastest rule (the smallest ``for:``):

* ``for_s``: how long the condition must hold;
* ``lookback_s``: the longest range the condition reads, through the recording rules it uses. Traffic from
  an earlier drill on the same lab stays inside that window and dilutes a ratio: a latency burn rate over the
  last 5 lab minutes of *all* requests needs the earlier drill's fast requests to age out before it pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from monitoring import durations
from monitoring.render import LAB_SPEEDUP, RULES_SOURCE

_RANGE = re.compile(rf"\[({durations.DURATION})(?::[^\]]*)?\]")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


@dataclass(frozen=True)
class AlertTiming:
    for_s: float
    lookback_s: float


def _load(rules_dir: Path) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
    alerts: dict[str, list[dict]] = {}
    records: dict[str, list[str]] = {}
    for path in sorted(Path(rules_dir).glob("*.yml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    alerts.setdefault(rule["alert"], []).append(rule)
                elif "record" in rule:
                    records.setdefault(rule["record"], []).append(str(rule["expr"]))
    return alerts, records


def _lookback_ms(expr: str, records: dict[str, list[str]], seen: frozenset[str] = frozenset()) -> int:
    ranges = [durations.parse(m.group(1)) for m in _RANGE.finditer(expr)]
    for name in set(_NAME.findall(expr)) & (set(records) - seen):
        ranges += [_lookback_ms(e, records, seen | {name}) for e in records[name]]
    return max(ranges, default=0)


def alert_timings(rules_dir: Path = RULES_SOURCE, speedup: int = LAB_SPEEDUP) -> dict[str, AlertTiming]:
    """alertname -> timing of its fastest rule; ``speedup`` 12 for the source rules, 1 for rendered ones."""
    alerts, records = _load(rules_dir)
    out = {}
    for name, rules in alerts.items():
        fastest = min(rules, key=lambda r: durations.parse(str(r.get("for", "0s"))))
        for_ms = durations.parse(str(fastest.get("for", "0s")))
        out[name] = AlertTiming(for_ms / 1000 / speedup, _lookback_ms(str(fastest["expr"]), records) / 1000 / speedup)
    return out
