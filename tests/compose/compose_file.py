"""Read docker-compose.yml the way Docker Compose does, without Docker: YAML (anchors and ``<<`` merges),
then ``${VAR}`` interpolation from an environment (compose's syntax: ``${V}``, ``${V:-d}``, ``${V-d}``,
``${V:?err}``, ``${V?err}``, ``${V:+alt}``, ``${V+alt}``, ``$$``).

The real ``docker compose config`` check runs too when a Compose v2 binary is present
(test_compose_schema.py); this reader keeps every other check runnable on any machine.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiops_core import yaml_text
from aiops_core.paths import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
# What a learner's .env holds after following .env.example (the secrets filled in).
EXAMPLE_SECRETS = {"AIOPS_ADMIN_TOKEN": "compose-test-token-0123456789",
                   "AIOPS_GRAFANA_ADMIN_PASSWORD": "compose-test-password"}

_VAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
                  r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


class InterpolationError(ValueError):
    """A required variable (``${V:?message}``) is missing, as ``docker compose`` would report it."""


def interpolate(text: str, env: dict[str, str]) -> str:
    def _one(m: re.Match[str]) -> str:
        if m.group("escaped"):
            return "$"
        name = m.group("name") or m.group("bare")
        op, arg = m.group("op"), m.group("arg") or ""
        value = env.get(name)
        unset_or_empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if (unset_or_empty if op == ":-" else value is None) else value  # type: ignore[return-value]
        if op in (":?", "?"):
            if unset_or_empty if op == ":?" else value is None:
                raise InterpolationError(f"required variable {name} is missing a value: {arg}")
            return value  # type: ignore[return-value]
        if op in (":+", "+"):
            return arg if not (unset_or_empty if op == ":+" else value is None) else ""
        return value or ""

    return _VAR.sub(_one, text)


def _walk(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_walk(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _walk(value, env) for key, value in node.items()}
    return node


def raw() -> dict[str, Any]:
    """The YAML with anchors and merge keys resolved, variables not yet interpolated."""
    return yaml_text.load(COMPOSE_FILE.read_text())


def env_example() -> dict[str, tuple[str, bool]]:
    """Every variable .env.example mentions: ``name -> (value shown, set?)``; ``# NAME=x`` is documented only."""
    found: dict[str, tuple[str, bool]] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        m = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if m:
            found[m.group(2)] = (m.group(3), m.group(1) is None)
    return found


def compose_variables() -> dict[str, str | None]:
    """Every ``${VAR...}`` in docker-compose.yml -> its ``:-`` default (None when it has none)."""
    found: dict[str, str | None] = {}
    for m in _VAR.finditer(COMPOSE_FILE.read_text()):
        name = m.group("name") or m.group("bare")
        if name:
            default = m.group("arg") if m.group("op") in (":-", "-") else None
            found[name] = default if found.get(name) is None else found[name]
    return found


def load(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose model after interpolation with ``env`` (default: a learner's filled-in .env.example)."""
    if env is None:
        env = {k: v for k, (v, active) in env_example().items() if active and v}
        env.update(EXAMPLE_SECRETS)
    return _walk(raw(), env)


def memory_bytes(text: str | int) -> int:
    """Compose's byte units (``240M`` = 240 MiB, ``1g`` = 1 GiB), as the engine applies them."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"(?i)\s*(\d+(?:\.\d+)?)\s*([kmg]?)b?\s*", str(text))
    if not m:
        raise ValueError(f"not a memory size: {text!r}")
    return int(float(m.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()])


def repo_path(source: str) -> Path:
    return (REPO_ROOT / source).resolve()
