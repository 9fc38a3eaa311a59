"""``aiops-lab monitoring render``: restore the running lab's Prometheus/Alertmanager config from the repo's
sources and reload both -- the supported undo of a hand edit or a bad config push (monitoring-blind-spot)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_core.errors import ExitStatus
from tests.labs.cli.monitoring_render_job import JOBS
from tests.labs.drills.jobs import DrillPool
from tests.support.lab import Lab


@pytest.mark.integration
@pytest.mark.pool(JOBS[0].name)
def test_render_restores_a_broken_scrape_target_and_the_service_is_scraped_again(drill_pool: DrillPool) -> None:
    """Played on a lab of the drill pool (``monitoring_render_job.py``)."""
    print(drill_pool.outcome(JOBS[0].name))


def test_render_without_a_running_lab_names_the_command_that_starts_it(tmp_path: Path) -> None:
    lab = Lab.create(tmp_path / "state")
    result = lab.run("monitoring", "render")
    assert result.exit_code == ExitStatus.NOT_RUNNING, result.output
    assert "the lab is not running" in result.text and "aiops-lab up" in result.text, result.output
    assert not (lab.state / "run" / "config").exists(), "nothing is rendered for a lab that does not run"


def test_render_help_says_what_it_overwrites_and_reloads(tmp_path: Path) -> None:
    lab = Lab.create(tmp_path / "state")
    listed = lab.run("--help")
    assert "monitoring" in listed.text
    result = lab.run("monitoring", "render", "--help")
    assert result.exit_code == 0, result.output
    for words in ("monitoring/prometheus", "/-/reload", "aiops-lab monitoring render"):
        assert words in result.text, result.output
