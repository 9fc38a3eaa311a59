"""The per-role scoring rules of the debrief (``labs.gameday.cadence``, ``labs.gameday.debrief``), on records
written by hand: no server, no lab."""

from __future__ import annotations

import pytest

from labs.gameday import cadence, debrief
from labs.gameday.model import Entry, Game, Participant

T0 = 1_000_000.0
EVERY = 300.0


def game(**changes: object) -> Game:
    return Game(game_id="g", drill_id="error-burst", started_at=T0 - 60, fault_at=T0, status_every_s=EVERY,
                **changes)  # type: ignore[arg-type]


def entry(at: float, kind: str, author: str = "alice", role: str = "ic", **extra: object) -> Entry:
    return Entry(at=T0 + at, author=author, role=role, kind=kind, text="x", **extra)  # type: ignore[arg-type]


def ic(role_since: float = T0) -> Participant:
    return Participant(name="alice", scope="responder", role="ic", token_sha256="0" * 64, role_since=role_since)


@pytest.mark.parametrize(("statuses", "end", "late", "score"), [
    ([100, 350], 600, 0, 100),  # every gap within 5 minutes, the last one to the end too
    ([100], 600, 1, 80),  # 500 s from the only update to the end
    ([400], 600, 1, 80),  # the first update came after 400 s
    ([], 600, 1, 0),  # a 10-minute incident without a single update
    ([], 200, 0, 100),  # over before an update was owed
])
def test_ic_cadence(statuses: list[float], end: float, late: int, score: int) -> None:
    entries = [entry(t, "status") for t in statuses]
    judged = cadence.judge(game(), entries, T0, T0 + end)
    assert (judged.updates, judged.late, judged.score) == (len(statuses), late, score)


def test_the_prompt_is_due_after_the_interval_and_restarts_with_a_handoff() -> None:
    assert cadence.prompt(game(), [], ic(), T0 + EVERY - 1) is None
    assert "overdue by 10s" in str(cadence.prompt(game(), [], ic(), T0 + EVERY + 10))
    assert cadence.prompt(game(), [entry(200, "status")], ic(), T0 + EVERY + 10) is None
    assert cadence.prompt(game(), [], ic(role_since=T0 + 100), T0 + EVERY + 10) is None  # a fresh IC
    ops = Participant(name="bob", scope="responder", role="ops", token_sha256="1" * 64)
    assert cadence.prompt(game(), [], ops, T0 + 10 * EVERY) is None
    assert cadence.prompt(game(ended_at=T0 + 1), [], ic(), T0 + 10 * EVERY) is None


def test_scribe_completeness_counts_phases_by_time_or_by_tag() -> None:
    entries = [entry(30, "engine:page", "drill-engine", "engine"),
               entry(90, "engine:learner", "drill-engine", "engine"),
               entry(10, "note", "sue", "scribe"), entry(60, "note", "sue", "scribe")]
    bounds = debrief.phase_bounds(game(), entries, None, T0 + 300)
    assert bounds == {"detection": (T0, T0 + 30), "diagnosis": (T0 + 30, T0 + 90), "mitigation": (T0 + 90, T0 + 300)}
    assert [debrief.phase_of(e, bounds) for e in entries[2:]] == ["detection", "diagnosis"]
    assert debrief.phase_of(entry(10, "note", phase="mitigation"), bounds) == "mitigation"
    people = [Participant(name="sue", scope="responder", role="scribe", token_sha256="2" * 64)]
    scores = {s.role: s for s in debrief.score_roles(game(), entries, people, [], T0 + 300)}
    assert scores["scribe"].score == 67 and "2/3 phases" in scores["scribe"].why
    assert scores["ic"].score is None and scores["ops"].score is None  # nobody held those roles
