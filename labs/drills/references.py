"""A drill's references resolved against the lab: do the alerts, runbooks, flags and metrics it names exist?

The schema says a drill file is well formed; this says it can work here. An expected alert no rule defines
never pages (the drill would wait forever), a runbook that is not there is a dead link in the briefing,
``aiops-lab config set no_such_flag`` in the debrief fails for every learner. Metric names in PromQL checks
are only warned about: a series may come from an exporter the lab does not define.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aiops_core.paths import REPO_ROOT
from labs.drills import alert_rules
from labs.drills.schema import Drill, PromCheck
from model_service.runtime_config import FLAG_NAMES

# Series Prometheus and client libraries add on their own (not defined in the lab's metric modules).
BUILTIN_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "process_resident_memory_bytes",
                  "process_cpu_seconds_total", "process_start_time_seconds", "process_open_fds",
                  "prometheus_notifications_alertmanagers_discovered", "prometheus_notifications_errors_total"}
# Mitigation lines rehearse can run: the lab's CLI, and a few shell tools (on the lab's ports).
SHELL_TOOLS = ("curl", "ps", "kill", "cat", "grep", "tail")
_PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "by", "without", "offset", "vector", "time", "on", "ignoring",
                    "group_left", "group_right", "inf", "nan"}


@dataclass(frozen=True)
class Reference:
    """One unresolved reference: where (a ``loc`` into the drill file), what, and how bad."""

    loc: tuple[str | int, ...]
    message: str
    severity: Literal["error", "warning"] = "error"


def metric_names(query: str) -> set[str]:
    """The series names a PromQL expression reads (label values, ranges, grouping clauses and functions
    removed)."""
    text = re.sub(r'"[^"]*"', '""', query)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\b(by|without|on|ignoring)\s*\([^)]*\)", " ", text)
    words = re.findall(r"(?<![\w:.])([A-Za-z_:][\w:]*)(?![\w:])(\s*\()?", text)
    return {w for w, call in words if not call and w.lower() not in _PROMQL_KEYWORDS}


def known_series() -> set[str]:
    from model_service import metrics as service_metrics
    from monitoring.drift import metrics as drift_metrics

    return (service_metrics.all_metric_names() | drift_metrics.all_metric_names() | BUILTIN_SERIES
            | alert_rules.recording_names())


def _runbook(path: str, file: Path | None) -> bool:
    """Beside the drill file (a user drill's own guide), else in the repository (the lab's runbooks)."""
    beside = file is not None and (file.resolve().parent / path).is_file()
    return beside or (REPO_ROOT / path).is_file()


def _config_set_flag(line: str) -> str | None:
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if words[:3] == ["aiops-lab", "config", "set"] and len(words) > 3:
        return words[3]
    return None


def check(drill: Drill, file: Path | None = None) -> list[Reference]:
    """Every reference of ``drill`` (read from ``file``, for runbooks beside it) that does not resolve."""
    out: list[Reference] = []
    alerts = alert_rules.alert_names()
    for i, name in enumerate(drill.expected_alerts):
        if name not in alerts:
            out.append(Reference(("expected_alerts", i), f"no alerting rule named {name!r} in monitoring/prometheus/"
                                 f"rules (it could never page); known: {', '.join(sorted(alerts))}"))
    for i, runbook in enumerate(drill.runbooks):
        if not _runbook(runbook, file):
            where = f"beside {file.name} or " if file is not None else ""
            out.append(Reference(("runbooks", i), f"{runbook} does not exist ({where}in the repository)"))
    for i, line in enumerate(drill.debrief.mitigation):
        flag = _config_set_flag(line)
        if flag is not None and flag not in FLAG_NAMES:
            out.append(Reference(("debrief", "mitigation", i), f"unknown config flag {flag!r}; known flags: "
                                 f"{', '.join(FLAG_NAMES)}"))
        elif not line.strip().startswith(("aiops-lab ", *(t + " " for t in SHELL_TOOLS))):
            out.append(Reference(("debrief", "mitigation", i), "not a command (aiops-lab ... or "
                                 f"{'/'.join(SHELL_TOOLS)}): drill rehearse cannot play this step", "warning"))
    for i, pattern in enumerate(drill.accepted_actions):
        if pattern.startswith("config:") and pattern[len("config:"):] not in FLAG_NAMES \
                and not any(ch in pattern for ch in "*?["):
            out.append(Reference(("accepted_actions", i), f"unknown config flag in {pattern!r}; known flags: "
                                 f"{', '.join(FLAG_NAMES)}"))
    series = known_series()
    for i, c in enumerate(drill.checks):
        if isinstance(c, PromCheck):
            unknown = sorted(metric_names(c.query) - series)
            if unknown:
                out.append(Reference(("checks", i, "query"), f"no metric or recording rule of the lab is named "
                                     f"{', '.join(unknown)} (the check may never hold)", "warning"))
    return out
