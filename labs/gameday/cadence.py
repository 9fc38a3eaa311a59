"""The incident commander's status cadence: when the next update is due, and how well the target was kept.

A status update every N minutes is what keeps stakeholders off the responders' backs; the game prompts the
IC when one is overdue (on every ``incident`` command) and the debrief scores how often the target was
missed. The clock starts when the current IC took the role or when the fault was due, whichever is later:
nobody owes an update before there is an incident, and a fresh IC after a handoff gets a full interval.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from aiops_core.durations import spoken
from labs.gameday.model import Entry, Game, Participant


def status_times(entries: list[Entry]) -> list[float]:
    return sorted(e.at for e in entries if e.kind == "status")


def overdue_s(game: Game, entries: list[Entry], ic: Participant, now: float) -> float | None:
    """Seconds the current IC's next status update is overdue (None: not due yet, or the game is over)."""
    if game.ended_at is not None or ic.role != "ic":
        return None
    since = max([ic.role_since, game.fault_at, *status_times(entries)])
    late = now - since - game.status_every_s
    return late if late > 0 else None


def prompt(game: Game, entries: list[Entry], who: Participant, now: float) -> str | None:
    """The line the IC's terminal shows when an update is overdue."""
    late = overdue_s(game, entries, who, now)
    if late is None:
        return None
    return (f"status update overdue by {spoken(late)} (target: every {spoken(game.status_every_s)}): "
            'aiops-lab incident status "what we know, what we do, next update at ..."')


@dataclass
class Cadence:
    updates: int
    late: int  # intervals longer than the target, the last one (to the end) included
    longest_gap_s: float
    score: int


LATE_PENALTY = 20


def judge(game: Game, entries: list[Entry], start: float, end: float) -> Cadence:
    """Score = 100 - 20 per interval over the target (no update at all in an incident: 0)."""
    times = [t for t in status_times(entries) if start <= t <= end]
    marks = [start, *times, end]
    gaps = [b - a for a, b in itertools.pairwise(marks)]
    late = sum(1 for g in gaps if g > game.status_every_s)
    score = 0 if not times and end - start > game.status_every_s else max(0, 100 - LATE_PENALTY * late)
    return Cadence(len(times), late, max(gaps, default=0.0), score)
