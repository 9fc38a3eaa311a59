"""The game day's debrief: who did what, a score per role, the true cause, the whole timeline, as Markdown.

Built only from records: the shared timeline (people's notes, status updates, handoffs, hints, and the
engine's events copied onto it) and the drill engine's own report per run (TTD, TTM, wrong actions, its
postmortem). The roles are scored on what each is for, so a team learns more than "we fixed it":

* **IC**: the status cadence against the target interval (``labs.gameday.cadence``), and the handoffs;
* **ops**: the drill engine's score for the run -- time to mitigate, wrong actions, hints (0 if never
  mitigated; the engine's rules in runbooks/drills/README.md#scoring);
* **scribe**: timeline completeness, the share of the three phases -- detection (fault to first page),
  diagnosis (to the first lever pulled), mitigation (to the end) -- with at least one note or status update.
  A note tagged with ``--phase`` counts for that phase, an untagged one where its time falls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiops_core import paths
from labs.drills import engine, postmortem, scoring
from labs.drills.engine import Report
from labs.drills.schema import Drill
from labs.drills.scoring import fmt_seconds
from labs.gameday import cadence
from labs.gameday.model import PHASES, ROLE_TITLES, Entry, Game, Participant


@dataclass
class RoleScore:
    role: str
    who: str
    score: int | None  # None: nobody held the role
    why: str


def debrief_dir(game_id: str) -> Path:
    return paths.reports_dir() / "gameday" / game_id


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def _holders(entries: list[Entry], participants: list[Participant], role: str) -> list[str]:
    """Everyone who held ``role`` at some point (joined with it, or took it in a handoff)."""
    names = [e.author for e in entries if e.role == role and e.kind in ("join", "status")]
    names += [p.name for p in participants if p.role == role]
    return list(dict.fromkeys(names))


def phase_bounds(game: Game, entries: list[Entry], report: Report | None, end: float) -> dict[str, tuple[float, float]]:
    """Detection: fault -> first page (or ack); diagnosis: -> the first lever a responder pulled (or the fix);
    mitigation: -> the end."""
    start = report.journal.injected_at if report and report.journal.injected_at else game.fault_at
    detected = start + report.score.ttd_s if report and report.score.ttd_s is not None else None
    if detected is None:
        detected = next((e.at for e in entries if e.kind == "engine:page" and e.at >= start), end)
    levers = [e.at for e in entries if e.kind == "engine:learner" and e.at >= detected]
    fixed = report.journal.passed_at if report and report.journal.passed_at else None
    acting = min([*levers, *([fixed] if fixed else []), end])
    return {"detection": (start, detected), "diagnosis": (detected, acting), "mitigation": (acting, end)}


def phase_of(entry: Entry, bounds: dict[str, tuple[float, float]]) -> str:
    if entry.phase:
        return entry.phase
    for phase in reversed(PHASES):
        if entry.at >= bounds[phase][0]:
            return phase
    return "detection"  # written before the fault: the team was watching


def ops_judgement(report: Report, injected: list[Drill]) -> tuple[list[str], int]:
    """The engine's wrong actions and score for the run, except that fixing the GM's second fault is not
    wrong: an action is wrong only if it is wrong for the first drill *and* for every injected one."""
    wrong = list(report.score.wrong_actions)
    pages = list(report.journal.result.get("pages", []))
    for drill in injected:
        also = set(scoring.judge_actions(report.journal, drill, pages)[0])
        wrong = [w for w in wrong if w in also]
    forgiven = len(report.score.wrong_actions) - len(wrong)
    points = report.score.score
    if report.journal.passed_at is not None:
        points = min(100, points + scoring.WRONG_ACTION_PENALTY * forgiven)
    return wrong, points


def score_roles(game: Game, entries: list[Entry], participants: list[Participant],
                reports: list[Report], end: float) -> list[RoleScore]:
    first = reports[0] if reports else None
    start = first.journal.injected_at if first and first.journal.injected_at else game.fault_at
    out = []
    ics = _holders(entries, participants, "ic")
    handoffs = [e for e in entries if e.kind == "handoff"]
    if start >= end:
        out.append(RoleScore("ic", ", ".join(ics) or "-", None, "the fault never started: no status was owed"))
    else:
        c = cadence.judge(game, entries, start, end)
        out.append(RoleScore("ic", ", ".join(ics) or "-", c.score if ics else None,
                             f"{c.updates} status update(s), target every {fmt_seconds(game.status_every_s)}, "
                             f"{c.late} interval(s) over it, longest gap {fmt_seconds(c.longest_gap_s)}; "
                             f"{len(handoffs)} handoff(s)"))
    ops = _holders(entries, participants, "ops")
    if first is None:
        why, points = "no drill ran, so nothing to mitigate", None
    else:
        s = first.score
        wrong, points = ops_judgement(first, [engine.drill_for(d) for d in game.injected])
        why = (f"time to mitigate {fmt_seconds(s.ttm_s)}" if s.ttm_s is not None else "never mitigated") + \
              f", time to detect {fmt_seconds(s.ttd_s)}, {len(wrong)} wrong action(s), {s.hints} hint(s)"
    out.append(RoleScore("ops", ", ".join(ops) or "-", points if ops else None, why))
    bounds = phase_bounds(game, entries, first, end)
    written = [e for e in entries if e.kind in ("note", "status")]
    per_phase = {p: sum(1 for e in written if phase_of(e, bounds) == p) for p in PHASES}
    covered = sum(1 for n in per_phase.values() if n)
    scribes = _holders(entries, participants, "scribe")
    out.append(RoleScore("scribe", ", ".join(scribes) or "-", round(100 * covered / len(PHASES)) if scribes else None,
                         f"{covered}/{len(PHASES)} phases on the timeline (" +
                         ", ".join(f"{p}: {n}" for p, n in per_phase.items()) + " notes/updates)"))
    return out


def _who_did_what(entries: list[Entry], participants: list[Participant]) -> str:
    lines = ["| who | role now | roles held | notes | status updates | handoffs |",
             "| --- | --- | --- | --- | --- | --- |"]
    for p in participants:
        mine = [e for e in entries if e.author == p.name]
        held = list(dict.fromkeys([*(e.role for e in mine if e.role != "engine"), p.label]))
        count = {k: sum(1 for e in mine if e.kind == k) for k in ("note", "status", "handoff")}
        lines.append(f"| {p.name} | {ROLE_TITLES.get(p.label, p.label)} | {', '.join(held)} | {count['note']} | "
                     f"{count['status']} | {count['handoff']} |")
    return "\n".join(lines)


def timeline_markdown(entries: list[Entry], origin: float) -> str:
    lines = ["| time (UTC) | +offset | who | role | kind | text |", "| --- | --- | --- | --- | --- | --- |"]
    for e in entries:
        text = e.secret or e.text
        if e.to:
            text = f"(to {e.to}) {text}"
        sign = "-" if e.at < origin else "+"
        lines.append(f"| {_clock(e.at)} | {sign}{fmt_seconds(abs(e.at - origin))} | {e.author} | {e.role} | {e.kind} | "
                     f"{' '.join(text.split()).replace('|', '/')} |")
    return "\n".join(lines)


def render(game: Game, entries: list[Entry], participants: list[Participant], reports: list[Report],
           end: float) -> tuple[str, list[RoleScore]]:
    drill = reports[0].drill if reports else engine.drill_for(game.drill_id)
    scores = score_roles(game, entries, participants, reports, end)
    origin = reports[0].journal.injected_at if reports and reports[0].journal.injected_at else game.fault_at
    extra = "".join(f"\n- second fault: `{d}` ({engine.drill_for(d).title})" for d in game.injected)
    score_rows = "\n".join(f"| {ROLE_TITLES[s.role]} | {s.who} | {'-' if s.score is None else f'{s.score}/100'} | "
                           f"{s.why} |" for s in scores)
    material = [f"- drill report: `{r.html or '-'}`" + (f"; postmortem draft: `{r.postmortem}`" if r.postmortem else "")
                for r in reports]
    material += [f"- [{p}]({postmortem.link(p, debrief_dir(game.game_id))})" for p in drill.runbooks]
    text = f"""# Game day debrief: {game.game_id}

- incident: **{drill.title}** (drill `{drill.id}`, {drill.difficulty}){extra}
- played {_clock(game.started_at)}-{_clock(end)} UTC ({fmt_seconds(end - game.started_at)}); the fault was due at
  {_clock(game.fault_at)}{'; it failed to start: ' + game.start_error if game.start_error else ''}

## Who did what

{_who_did_what(entries, participants)}

## Scores per role

| role | who | score | why |
| --- | --- | --- | --- |
{score_rows}

## What really happened

{drill.debrief.root_cause.strip()}

**A good response:** {' '.join(drill.debrief.good_response.split())}

```bash
{chr(10).join(drill.debrief.mitigation)}
```

## Timeline

All times UTC; offsets from the moment the fault started. Private hints show their addressee.

{timeline_markdown(entries, origin)}

## Material

{chr(10).join(material)}
"""
    return text, scores


def write(game: Game, text: str) -> Path:
    out = debrief_dir(game.game_id)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "debrief.md"
    path.write_text(text)
    return path
