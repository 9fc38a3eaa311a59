"""``aiops-lab drill new ID``: a drill file to start from, every field commented, plus its guide stub.

The comments list the allowed values read from the schema and the lab (fault and check types with their
fields, flags, alerts, tags, data scenarios, corruptions), so they cannot drift from what ``drill validate``
accepts. The example fault and check are a working incident (an error burst); every ``TODO`` is prose only
the author can write, and ``drill validate`` refuses a file that still has one.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path

from pydantic import BaseModel

from aiops_core.errors import Conflict
from labs.drills import alert_rules
from labs.drills.fault_types import Fault
from labs.drills.schema import Check
from labs.drills.schema_base import TRAINS
from model_service.runtime_config import FLAG_NAMES

TODO = "TODO"
EXAMPLE_ALERT = "ModelServiceErrorBudgetBurn"


def _members(union: object) -> list[type[BaseModel]]:
    return list(typing.get_args(typing.get_args(union)[0]))


def _allowed(annotation: object) -> str:
    """``a | b | c`` for a Literal (possibly optional), else the type's name."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return " | ".join(str(a) for a in args)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return " | ".join(_allowed(a) for a in args if a is not type(None))
    return getattr(annotation, "__name__", str(annotation)).replace("typing.", "")


def _fields(model: type[BaseModel], skip: tuple[str, ...] = ("type", "after", "window")) -> str:
    parts = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        allowed = _allowed(info.annotation)
        required = info.is_required()
        parts.append(f"{name}{'' if required else '?'} ({allowed})" if "|" in allowed else
                     f"{name}{'' if required else '?'}")
    return ", ".join(parts)


def _type_lines(union: object) -> list[str]:
    out = []
    for model in _members(union):
        tag = typing.get_args(model.model_fields["type"].annotation)[0]
        doc = (model.__doc__ or "").strip().splitlines()[0]
        out += [f"#   {tag}: {doc}", f"#       fields: {_fields(model)}"]
    return out


def _wrapped(prefix: str, words: list[str], width: int = 110) -> list[str]:
    lines, line = [], prefix
    for word in words:
        if len(line) + len(word) + 2 > width:
            lines.append(line.rstrip())
            line = "#     "
        line += word + ", "
    return [*lines, line.rstrip(", ")]


def drill_text(drill_id: str) -> str:
    """The scaffold drill file for ``drill_id``."""
    from model_service.corruptions import CORRUPTIONS
    from model_service.scenarios import SCENARIOS

    alerts = sorted(alert_rules.alert_names())
    head = [
        f"# Drill {drill_id}: written by `aiops-lab drill new`. Fill in every {TODO}, then:",
        f"#   aiops-lab drill validate {drill_id}.yml   # errors name the line and the field",
        f"#   aiops-lab drill rehearse {drill_id}.yml   # plays it on a private lab: page, fix, clean stop, TTD/TTM",
        "# Put this directory on AIOPS_DRILLS_PATH (like PATH) to list and start it: aiops-lab drill list",
        "# Durations: 90, 90s, 15m, 1h30m, 250ms.",
        "",
        "# id: lowercase letters, digits and dashes; must equal the file name; may not reuse a catalogue id.",
        f"id: {drill_id}",
        "# title: one line (at most 80 characters), shown by `aiops-lab drill list`.",
        f'title: "{TODO}: a one-line title"',
        "# difficulty: easy | medium | hard",
        "difficulty: easy",
        "# estimated_minutes: 1..120, how long a learner needs.",
        "estimated_minutes: 10",
        "# trains: what the drill practises, one or more of:",
        *[f"#   {tag}: {what}" for tag, what in TRAINS.items()],
        "trains: [sre-slo-burn, sre-change-rollback]",
        "# briefing: symptoms only, as the on-call would hear them; never name the flag or the fault.",
        "briefing: |",
        f"  {TODO}: what users and the dashboards show, and since when.",
        "# objectives: what the learner should do, one line each.",
        "objectives:",
        f'  - "{TODO}: find what changed and revert it"',
        "# traffic: the drill's background traffic (null for none). checkout is the client calling /predict:",
        "#   rate_per_s (0-400], batch_share [0-1], batch_size 2..1000, mobile_share [0-1],",
        "#   rename {feature: name it sends}, scenario (a data scenario, below); feedback_ratio [0-1]: share of",
        "#   predictions that get a label; warmup (<= 120 s): healthy traffic before the first fault.",
        *_wrapped("#   data scenarios: ", list(SCENARIOS)),
        "traffic:",
        "  checkout: {rate_per_s: 8, batch_share: 0.2, batch_size: 20}",
        "  feedback_ratio: 0.5",
        "  warmup: 3s",
        "# faults: one or more, combined freely. Each may start later: `after: 30s` (that long after the",
        "#   injection) and `window: 60s` (a random moment in [after, after + window], seeded and recorded in",
        "#   the journal, so the report says when it really started). Types (fields? are optional):",
        *_type_lines(Fault),
        *_wrapped("#   flags (config_flag): ", list(FLAG_NAMES)),
        *_wrapped("#   corruptions (bad_model): ", list(CORRUPTIONS)),
        "faults:",
        "  - type: config_flag",
        "    flag: error_ratio",
        "    value: 0.6",
        "    actor: deploy-bot",
        f'    reason: "{TODO}: the change as its author described it (the learner reads this in the history)"',
        "# expected_alerts: the alerts that should page ([] when no rule covers the fault; then the learner acks).",
        *_wrapped("#   known alerts: ", alerts),
        f"expected_alerts: [{EXAMPLE_ALERT}]",
        "# checks: what must hold once the incident is mitigated (all of them; `drill check` judges). Types:",
        *_type_lines(Check),
        "#   promql: op is one of < <= > >= == !=; hold (<= 600 s): the condition holds at every evaluation.",
        "checks:",
        "  - type: promql",
        "    name: /predict 5xx ratio under 0.5% (held)",
        "    query: |",
        '      (sum(rate(aiops_http_requests_total{job="model-service",route="/predict",status=~"5.."}[15s]))'
        " or vector(0))",
        '      / sum(rate(aiops_http_requests_total{job="model-service",route="/predict"}[15s]))',
        '    op: "<"',
        "    threshold: 0.005",
        "    hold: 10s",
        "# resilience: true when the fault never ends and the checks must pass while it is still active.",
        "resilience: false",
        "# accepted_actions: learner actions that are not wrong moves (fnmatch patterns): config:FLAG, model:*,",
        "#   restart:COMPONENT, upstream:*, monitoring:*, silence:*",
        'accepted_actions: ["config:error_ratio"]',
        "# hints: one per `aiops-lab drill hint`, vaguest first (each costs points).",
        "hints:",
        f'  - "{TODO}: where to look first"',
        f'  - "{TODO}: the lever, named"',
        "# debrief: shown when the checks pass.",
        "debrief:",
        "  root_cause: |",
        f"    {TODO}: what broke and why it hurt.",
        "  good_response: |",
        f"    {TODO}: what a good on-call did, in order.",
        "  # mitigation: the commands that fix it, in order. `aiops-lab ...` lines (and curl/ps/kill/cat/grep/tail)",
        "  # are run as written by `aiops-lab drill rehearse`.",
        "  mitigation:",
        "    - aiops-lab config history",
        f"    - 'aiops-lab config set error_ratio 0 --reason \"{TODO}: revert the change\"'",
        "  wrong_moves: \"\"",
        "# runbooks: the first is the drill guide (beside this file, or a repository path), then the runbooks of",
        "#   the alerts (repository paths such as runbooks/ALERT.md).",
        "runbooks:",
        f"  - {drill_id}.md",
        f"  - runbooks/{EXAMPLE_ALERT}.md",
    ]
    return "\n".join(head) + "\n"


def guide_text(drill_id: str) -> str:
    return (f"# Drill: {TODO} title\n\n`aiops-lab drill start {drill_id}` · easy · ~10 minutes\n\n"
            f"## The situation\n\n{TODO}: the symptoms, as in the briefing.\n\n"
            f"## Where to look\n\nThe page: [{EXAMPLE_ALERT}](runbooks/{EXAMPLE_ALERT}.md) in the repository.\n\n"
            f"## How the lab judges recovery\n\n{TODO}: the checks, in words.\n\n"
            "## Afterwards\n\n`aiops-lab drill report` shows the timeline and the score.\n")


def write(drill_id: str, directory: Path) -> tuple[Path, Path]:
    """Write ``ID.yml`` and its guide ``ID.md`` into ``directory``; never overwrites either."""
    directory.mkdir(parents=True, exist_ok=True)
    drill, guide = directory / f"{drill_id}.yml", directory / f"{drill_id}.md"
    existing = [p for p in (drill, guide) if p.exists()]
    if existing:
        raise Conflict(f"{', '.join(map(str, existing))} already exists; not overwriting it (choose another ID "
                       "or --dir, or delete the file first)")
    drill.write_text(drill_text(drill_id))
    guide.write_text(guide_text(drill_id))
    return drill, guide
