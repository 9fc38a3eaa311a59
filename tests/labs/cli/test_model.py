"""``aiops-lab model``: ``list`` reads the registry's JSON cards without loading a machine-learning stack.

A learner's report (issue 12): ``model list`` took 6-8 s. Importing the ``model`` noun imported training
(scikit-learn), the data generator (numpy, pandas) and the registry's artifact loader (skops) before a
single card was read. The guard below is on imports, not on seconds: a fresh interpreter imports each noun
and must not have loaded any of them (the CLI imports a noun only when it runs one of its commands).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aiops_core.errors import ExitStatus
from labs.cli.main import COMMANDS
from tests.support.lab import Lab

HEAVY = ("pandas", "numpy", "sklearn", "skops", "scipy", "evidently", "locust")


@pytest.mark.parametrize("module", sorted({module for module, _, _ in COMMANDS.values()}))
def test_importing_a_noun_loads_no_data_or_ml_library(module: str) -> None:
    probe = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [], f"importing {module} loaded {done.stdout.strip()}"


@pytest.fixture
def lab(tmp_path: Path, trained_registry: Path) -> Lab:
    state = tmp_path / "state"
    shutil.copytree(trained_registry, state / "models")
    return Lab.create(state)


def test_list_shows_every_version_and_marks_the_active_one(lab: Lab) -> None:
    result = lab.run("model", "list")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("│") and " v" in line]
    assert [row.split("│")[2].strip() for row in rows] == ["v1", "v2"], result.output
    assert rows[0].split("│")[1].strip() == "*" and rows[1].split("│")[1].strip() == ""
    assert "labels shuffled" in result.text, result.output  # v2's card says what is wrong with it


def test_train_options_still_offer_the_generators_scenarios(lab: Lab) -> None:
    """The choices are read when click needs them, from their one source (the generator, training)."""
    shown = lab.run("model", "train", "--help")
    assert shown.exit_code == 0 and "covariate-shift" in shown.text and "labels-shuffled" in shown.text
    wrong = lab.run("model", "train", "--scenario", "monsoon")
    assert wrong.exit_code == ExitStatus.USAGE and "'monsoon' is not one of" in wrong.output, wrong.output
