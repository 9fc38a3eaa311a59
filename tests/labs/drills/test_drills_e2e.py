"""Every drill of the catalogue end to end, against real native labs in lab mode, through the learner's CLI.

A pool of private labs plays the drills side by side (``pool.py``, jobs in ``jobs.py``); each drill is one
named test here, failing with the drill's own assertion and the last CLI outputs of its lab. The pool starts
with the session (``tests/conftest.py``) and these tests run last, so most outcomes are ready when asked.
"""

from __future__ import annotations

import pytest

from tests.labs.drills.jobs import DRILLS, DrillPool

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("drill_id", [pytest.param(d, marks=pytest.mark.pool(d)) for d in DRILLS])
def test_drill_end_to_end(drill_pool: DrillPool, drill_id: str) -> None:
    drill_pool.outcome(drill_id)


@pytest.mark.pool("cli_errors")
def test_cli_lists_drills_and_names_errors(drill_pool: DrillPool) -> None:
    drill_pool.outcome("cli_errors")


@pytest.mark.pool("killed_mid_start_then_best_scores")
def test_stop_cleans_up_after_the_cli_died_mid_start_and_best_scores_show(drill_pool: DrillPool) -> None:
    drill_pool.outcome("killed_mid_start_then_best_scores")


@pytest.mark.pool("guide_commands")
def test_every_promql_and_curl_in_the_drill_guides_runs_against_a_lab(drill_pool: DrillPool) -> None:
    drill_pool.outcome("guide_commands")


@pytest.mark.pool("stop_after_down")
def test_stop_restores_the_state_on_disk_when_the_lab_is_gone(drill_pool: DrillPool) -> None:
    drill_pool.outcome("stop_after_down")
