"""The monitoring artefacts as data: alert rules, recording rules, runbooks and their fenced code blocks.

Tests read the repository's files through here so every check sees the same parse.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from aiops_core import yaml_text
from aiops_core.paths import REPO_ROOT

RULES_DIR = REPO_ROOT / "monitoring" / "prometheus" / "rules"
RULE_TESTS_DIR = REPO_ROOT / "monitoring" / "prometheus" / "tests"
PROMETHEUS_YML = REPO_ROOT / "monitoring" / "prometheus" / "prometheus.yml"
ALERTMANAGER_YML = REPO_ROOT / "monitoring" / "alertmanager" / "alertmanager.yml"
RUNBOOKS_DIR = REPO_ROOT / "runbooks"
DASHBOARDS_DIR = REPO_ROOT / "grafana" / "dashboards"
RUNBOOK_HEADINGS = ("## Meaning", "## Impact", "## Diagnosis", "## Mitigation", "## Verification")
# Fences may be indented (inside a numbered list); the closing fence has the same indentation.
_FENCE = re.compile(r"^([ \t]*)```(\w*)\n(.*?)^\1```", re.M | re.S)


@dataclass
class Rule:
    file: str
    group: str
    kind: str  # "alert" | "record"
    name: str
    expr: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    duration: str | None = None


def rules(rules_dir: Path = RULES_DIR) -> list[Rule]:
    out = []
    for path in sorted(rules_dir.glob("*.yml")):
        for group in yaml_text.load(path.read_text())["groups"]:
            for raw in group["rules"]:
                kind = "alert" if "alert" in raw else "record"
                out.append(Rule(path.name, group["name"], kind, raw[kind], str(raw["expr"]),
                                dict(raw.get("labels") or {}), dict(raw.get("annotations") or {}),
                                raw.get("for")))
    return out


def alerts() -> list[Rule]:
    return [r for r in rules() if r.kind == "alert"]


def alert_names() -> list[str]:
    return sorted({r.name for r in alerts()})


def recording_names() -> set[str]:
    return {r.name for r in rules() if r.kind == "record"}


def recording_selectors() -> set[str]:
    """One selector per recorded series family: the name plus the rule's static labels.

    Several rules record one name under different labels (``slo:sli_error:ratio_rate5m`` for availability
    and for latency, in separate evaluations), so "the name has data" does not mean every rule has data.
    """
    out = set()
    for r in rules():
        if r.kind == "record":
            matchers = ",".join(f'{k}="{v}"' for k, v in sorted(r.labels.items()))
            out.add(f"{r.name}{{{matchers}}}" if matchers else r.name)
    return out


def code_blocks(markdown: str, lang: str) -> list[str]:
    """Contents of the fenced blocks tagged ``lang`` (```promql, ```bash)."""
    return [textwrap.dedent(body).strip() for _, tag, body in _FENCE.findall(markdown) if tag == lang]


def runbook_paths() -> list[Path]:
    return sorted(p for p in RUNBOOKS_DIR.glob("*.md") if p.name != "README.md")


def runbook_promql() -> list[tuple[str, str]]:
    """(runbook file name, query) for every ```promql block in every runbook."""
    return [(p.name, q) for p in runbook_paths() for q in code_blocks(p.read_text(), "promql")]


def runbook_shell_lines() -> list[tuple[str, str]]:
    """(runbook file name, command) for every non-comment line of every ```bash block."""
    out = []
    for path in runbook_paths():
        for block in code_blocks(path.read_text(), "bash"):
            for line in _join_continuations(block):
                if line and not line.startswith("#"):
                    out.append((path.name, line))
    return out


def guide_shell_lines() -> list[tuple[str, str]]:
    """(file name, command) for every command of the drill guides (``runbooks/drills/*.md``) and the runbook
    README: not alert runbooks, but followed as literally."""
    paths = [RUNBOOKS_DIR / "README.md", *sorted((RUNBOOKS_DIR / "drills").glob("*.md"))]
    return [(f"{p.parent.name}/{p.name}", line) for p in paths for block in code_blocks(p.read_text(), "bash")
            for line in _join_continuations(block) if line and not line.startswith("#")]


def _join_continuations(block: str) -> list[str]:
    lines, current = [], ""
    for raw in block.splitlines():
        current += raw.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        lines.append(current.strip())
        current = ""
    if current:
        lines.append(current.strip())
    return lines
