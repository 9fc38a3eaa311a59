"""``aiops-lab model repair``: restore what the registry's redundant records can, and name what they cannot.

The active pointer is rebuilt from the deployment history (its last entry names the version the pointer
held: ``Registry.activate`` writes the pointer first and the entry second). Unreadable history lines are
dropped: only a torn append makes one, and nothing after it refers to it. A damaged artifact, card or
reference sample cannot be rebuilt from anything, so the finding names the file and the version to deploy
instead. Nothing is deleted: a damaged version's files stay for the postmortem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiops_core.atomic import atomic_write
from model_service.registry import Registry
from model_service.registry_files import CARD, HISTORY, POINTER, parse_pointer, reason


@dataclass(frozen=True)
class Finding:
    message: str
    fixed: bool = False  # repaired just now
    blocking: bool = False  # nothing can be served from the registry until a person acts


def repair(registry: Registry) -> list[Finding]:
    """Check the pointer, the history and every version; fix what can be fixed. Empty: all intact."""
    findings = _history(registry)
    active = _pointer(registry, findings)
    damaged = {v: p for v in registry.versions() if (p := registry.problem(v)) is not None}
    usable = [v for v in registry.versions() if v not in damaged and v != active]
    train = "train a new one: aiops-lab model train --deploy"
    instead = f"aiops-lab model deploy {usable[-1]} (the newest intact version), or {train}" if usable else train
    for version, problem in damaged.items():
        if version == active:
            findings.append(Finding(f"{version} is the active version and cannot be served: {problem}. It cannot "
                                    f"be rebuilt; deploy another: {instead}", blocking=True))
        else:
            findings.append(Finding(f"{version} cannot be served: {problem}. Do not deploy it; its files stay "
                                    "for inspection"))
    return findings


def _history(registry: Registry) -> list[Finding]:
    entries, bad = registry.read_history()
    if not bad:
        return []
    path = registry.root / HISTORY
    atomic_write(path, "".join(json.dumps(e) + "\n" for e in entries), fsync=True)
    lines = ", ".join(map(str, bad))
    return [Finding(f"{path}: dropped {len(bad)} unreadable line(s) ({lines}); the {len(entries)} other "
                    "entries are intact", fixed=True)]


def _pointer(registry: Registry, findings: list[Finding]) -> str | None:
    """The active version after repairing the pointer (None: none is, or it cannot be known)."""
    path = registry.root / POINTER
    try:
        version: str | None = parse_pointer(path.read_bytes())
        state = None
    except FileNotFoundError:
        version, state = None, "was missing"
    except OSError as exc:
        version, state = None, f"could not be read ({reason(exc)})"
    except ValueError as exc:
        version, state = None, f"was corrupt ({' '.join(str(exc).split())})"
    if state is None:
        if version not in registry.versions():
            findings.append(Finding(f"{path} names {version}, which is not a registered version; activate one: "
                                    "aiops-lab model deploy VERSION (see: aiops-lab model list)", blocking=True))
        return version
    entries = registry.history()
    if not entries:
        if state != "was missing":  # missing with no history: nothing was ever deployed, nothing to repair
            findings.append(Finding(f"{path} {state} and {registry.root / HISTORY} names no deployment to restore "
                                    "it from; activate a version: aiops-lab model deploy VERSION", blocking=True))
        return None
    last = entries[-1]
    if not (registry.root / last["version"] / CARD).is_file():
        findings.append(Finding(f"{path} {state}; the last deployment ({last['version']}) is not a registered "
                                "version any more; activate one: aiops-lab model deploy VERSION", blocking=True))
        return None
    since = str(last.get("time", ""))
    try:
        atomic_write(path, json.dumps({"version": last["version"], "since": since}), fsync=True)
    except OSError as exc:
        findings.append(Finding(f"{path} {state} and cannot be rewritten ({reason(exc)}); check the disk and "
                                "its permissions", blocking=True))
        return None
    findings.append(Finding(f"{path} {state}; restored it from {HISTORY}: {last['version']} (active since "
                            f"{since})", fixed=True))
    return str(last["version"])
