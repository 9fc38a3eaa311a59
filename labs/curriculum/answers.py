"""Reading a learner's answer files: every problem becomes a failed step naming the file, key and fix.

Answer files are YAML because that is what operators write all day (rules, alerts, configs). A typo must
produce "queries.yaml: error_ratio: expected a PromQL string", never a traceback.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from aiops_core import yaml_text
from labs.curriculum.steps import Fail


def _rel(path: Path) -> str:
    return path.name


def load_yaml(path: Path, step: str = "read your answers") -> dict[str, Any]:
    """The mapping in ``path``; ``Fail`` when it is missing, not YAML, or not a mapping."""
    if not path.is_file():
        raise Fail(step, f"{path} does not exist",
                   f"run: aiops-lab lab start {path.parent.name} (creates it from the starter), then fill it in")
    try:
        raw = yaml_text.load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise Fail(step, f"{_rel(path)} is not valid YAML{where}: {problem}",
                   "fix the syntax (indentation, a missing ':' or quote) and check again") from None
    if not isinstance(raw, dict):
        raise Fail(step, f"{_rel(path)} must be a mapping of 'key: value' lines, found {type(raw).__name__}",
                   "start again from the starter file: aiops-lab lab start MODULE --force")
    return raw


def _missing(path: Path, key: str, what: str) -> Fail:
    return Fail(f"answer '{key}'", f"{_rel(path)}: {key} is missing or empty; expected {what}",
                f"fill in '{key}:' in {path}")


def get(data: dict[str, Any], key: str) -> Any:
    """A nested value by dotted ``key`` (``availability.objective``), None when absent."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def text(data: dict[str, Any], key: str, path: Path, what: str = "a string") -> str:
    value = get(data, key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _missing(path, key, what)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise Fail(f"answer '{key}'", f"{_rel(path)}: {key} should be {what}, found {type(value).__name__}",
                   f"write one value after '{key}:'")
    return str(value).strip()


def number(data: dict[str, Any], key: str, path: Path, what: str = "a number") -> float:
    value = get(data, key)
    if value is None or value == "":
        raise _missing(path, key, what)
    try:
        if isinstance(value, bool):
            raise ValueError
        result = float(str(value).strip().rstrip("%")) / (100.0 if str(value).strip().endswith("%") else 1.0)
    except ValueError:
        raise Fail(f"answer '{key}'", f"{_rel(path)}: {key}: {value!r} is not a number; expected {what}",
                   "write a plain number, e.g. 0.0123 (a percentage like 1.23% works too)") from None
    if not math.isfinite(result):
        raise Fail(f"answer '{key}'", f"{_rel(path)}: {key}: {value!r} is not a finite number", "")
    return result


def timestamp(data: dict[str, Any], key: str, path: Path) -> float:
    """Unix seconds, or an ISO 8601 time with a zone (2026-11-25T15:04:05Z)."""
    value = get(data, key)
    if value is None or value == "":
        raise _missing(path, key, "a time: unix seconds (date +%s) or ISO 8601 with zone")
    if isinstance(value, datetime):  # YAML parses unquoted ISO times itself
        if value.tzinfo is None:
            raise Fail(f"answer '{key}'", f"{_rel(path)}: {key}: {value} has no time zone",
                       "add Z for UTC, e.g. 2026-11-25T15:04:05Z, or use unix seconds (date +%s)")
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise Fail(f"answer '{key}'", f"{_rel(path)}: {key}: {value!r} is not a time",
                   "use unix seconds (date +%s) or ISO 8601 with a zone, e.g. 2026-11-25T15:04:05Z") from None
    if parsed.tzinfo is None:
        raise Fail(f"answer '{key}'", f"{_rel(path)}: {key}: {value} has no time zone",
                   "add Z for UTC, e.g. 2026-11-25T15:04:05Z, or use unix seconds (date +%s)")
    return parsed.timestamp()
