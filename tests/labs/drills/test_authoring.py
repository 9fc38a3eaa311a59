"""Writing your own drill, without a lab: ``drill new`` writes a scaffold that validates once its TODOs are
written, ``drill validate`` names the file, line and field of every problem, user drills on
``AIOPS_DRILLS_PATH`` are listed beside the catalogue (and may not reuse its ids), and the fault schedule is
seeded. On a real lab: ``test_authoring_on_a_lab.py``."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from aiops_core.errors import ExitStatus
from labs.drills import catalogue, private_lab, scaffold, schedule
from labs.drills import journal as jr
from labs.drills.journal import Journal, RollbackAction
from tests.support.lab import Lab


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab.create(tmp_path / "state", AIOPS_DRILLS_PATH=str(tmp_path / "drills"))


@pytest.fixture
def drills(tmp_path: Path) -> Path:
    return tmp_path / "drills"


def written(directory: Path, drill_id: str = "my-drill") -> Path:
    path, guide = scaffold.write(drill_id, directory)
    path.write_text(path.read_text().replace(scaffold.TODO, "Written"))
    guide.write_text(guide.read_text().replace(scaffold.TODO, "Written"))
    return path


def line_of(path: Path, text: str) -> int:
    """1-based line of the first line containing ``text`` (the scaffold's comments name every field too)."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1)
                if text in line and not line.lstrip().startswith("#"))


def test_the_scaffold_validates_once_its_todos_are_written(lab: Lab, drills: Path) -> None:
    made = lab.run("drill", "new", "my-drill", "--dir", str(drills))
    assert made.exit_code == 0, made.output
    path, guide = drills / "my-drill.yml", drills / "my-drill.md"
    assert guide.is_file() and "aiops-lab drill start my-drill" in guide.read_text()
    todo = lab.run("drill", "validate", str(path))
    assert todo.exit_code == ExitStatus.USAGE
    lines = [i for i, line in enumerate(path.read_text().splitlines(), 1) if scaffold.TODO in line
             and not line.lstrip().startswith("#")]
    reported = [int(n) for n in re.findall(rf"{re.escape(str(path))}:(\d+): \S+: still a TODO", todo.text)]
    assert len(reported) == len(lines) >= 8, todo.text
    for line in lines:  # a block scalar's TODO is reported on its key, the line above
        assert line in reported or line - 1 in reported, (line, todo.text)
    for choice in ("config_flag", "dependency", "golden_set", "error_ratio", "ModelServiceDown", "sre-slo-burn",
                   "labels-shuffled", "covariate-shift", "after:", "window:"):
        assert choice in path.read_text(), f"the scaffold's comments do not name {choice}"
    path.write_text(path.read_text().replace(scaffold.TODO, "Written"))
    valid = lab.run("drill", "validate", str(path))
    assert valid.exit_code == 0, valid.output
    assert "is a valid drill (my-drill)" in valid.text and "warning" not in valid.text


def test_new_refuses_to_overwrite_and_to_reuse_a_catalogue_id(lab: Lab, drills: Path) -> None:
    written(drills)
    before = (drills / "my-drill.yml").read_text()
    again = lab.run("drill", "new", "my-drill", "--dir", str(drills))
    assert again.exit_code == ExitStatus.CONFLICT and "already exists; not overwriting" in again.text
    assert (drills / "my-drill.yml").read_text() == before
    taken = lab.run("drill", "new", "error-burst", "--dir", str(drills))
    assert taken.exit_code == ExitStatus.USAGE and "already the catalogue drill" in taken.text
    bad = lab.run("drill", "new", "My Drill", "--dir", str(drills))
    assert bad.exit_code == ExitStatus.USAGE and "lowercase letters" in bad.text


@pytest.mark.parametrize(("old", "new", "anchor", "field", "message"), [
    ("flag: error_ratio", "flag: error_rate", "flag: error_rate", "faults.0.flag", "unknown flag 'error_rate'"),
    ("hold: 10s", "hold: soon", "hold: soon", "checks.0.hold", "'soon' is not a duration"),
    ("\ndifficulty: easy", "\ndifficulty: trivial", "difficulty:", "difficulty", "Input should be 'easy'"),
    ("    actor: deploy-bot\n", "    actor: deploy-bot\n    window: -5s\n", "window: -5s", "faults.0.window",
     "'-5s' is not a duration"),
    ("    actor: deploy-bot\n", "    actor: deploy-bot\n    after: 2h\n", "after: 2h", "faults.0.after",
     "less than or equal to 3600"),
    ("type: config_flag", "type: confg_flag", "type: confg_flag", "faults.0", "does not match any of the expected"),
    ("expected_alerts: [ModelServiceErrorBudgetBurn]", "expected_alerts: [NoSuchAlert]", "expected_alerts:",
     "expected_alerts.0", "no alerting rule named 'NoSuchAlert'"),
    ("  - runbooks/ModelServiceErrorBudgetBurn.md", "  - runbooks/Nope.md", "runbooks/Nope.md", "runbooks.1",
     "runbooks/Nope.md does not exist"),
    ("aiops-lab config set error_ratio 0", "aiops-lab config set error_rate 0", "config set error_rate",
     "debrief.mitigation.1", "unknown config flag 'error_rate'"),
])
def test_validate_names_the_file_the_line_and_the_field(lab: Lab, drills: Path, old: str, new: str, anchor: str,
                                                          field: str, message: str) -> None:
    path = written(drills)
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    done = lab.run("drill", "validate", str(path))
    assert done.exit_code == ExitStatus.USAGE, done.output
    assert f"{path}:{line_of(path, anchor)}: {field}: " in done.text and message in done.text, done.text
    assert "Traceback" not in done.output


def test_validate_reports_yaml_errors_missing_fields_and_unknown_metrics(lab: Lab, drills: Path) -> None:
    path = written(drills)
    good = path.read_text()
    path.write_text(good.replace("difficulty: easy", "difficulty: [easy"))
    broken = lab.run("drill", "validate", str(path))
    assert broken.exit_code == ExitStatus.USAGE and f"{path}:" in broken.text and "not valid YAML" in broken.text
    path.write_text(good.replace("estimated_minutes: 10\n", ""))
    missing = lab.run("drill", "validate", str(path))
    # A missing field is reported on its parent's line: here the document's first field.
    assert missing.exit_code == ExitStatus.USAGE
    assert f"{path}:{line_of(path, 'id: my-drill')}: estimated_minutes: Field required" in missing.text
    path.write_text(good.replace('route="/predict"}[15s]))\n', 'route="/predict"}[15s])) + aiops_nope_total\n'))
    warned = lab.run("drill", "validate", str(path))
    assert warned.exit_code == 0, warned.output  # a metric the lab does not define only warns
    assert f"{path}:{line_of(path, 'query: |')}: warning: checks.0.query:" in warned.text
    assert "aiops_nope_total" in warned.text
    nowhere = lab.run("drill", "validate", str(drills / "nope.yml"))
    assert nowhere.exit_code == ExitStatus.USAGE and "cannot read" in nowhere.text
    (drills / "binary.yml").write_bytes(b"\xff\xfe\x00id")
    binary = lab.run("drill", "validate", str(drills / "binary.yml"))
    assert binary.exit_code == ExitStatus.USAGE and "not a text file" in binary.text
    listed = lab.run("drill", "list")  # a broken draft beside it does not break the list
    assert listed.exit_code == 0 and "binary.yml: not a text file" in listed.text


def test_every_catalogue_drill_validates_against_the_lab() -> None:
    from labs.drills.validate import validate

    for path in sorted(catalogue.CATALOGUE_DIR.glob("*.yml")):
        result = validate(path)
        assert result.valid, [str(p) for p in result.problems]


def test_user_drills_are_listed_beside_the_catalogue_and_may_not_reuse_its_ids(lab: Lab, drills: Path) -> None:
    mine = written(drills)
    (drills / "error-burst.yml").write_text((catalogue.CATALOGUE_DIR / "error-burst.yml").read_text())
    (drills / "draft.yml").write_text("id: [draft")
    listed = lab.run("drill", "list")
    assert listed.exit_code == 0, listed.output
    assert "my-drill" in listed.text and f"(user drill: {mine})" in listed.text and "service-crash" in listed.text
    assert (f"user drill refused: {drills / 'error-burst.yml'}: id 'error-burst' is already the catalogue drill "
            f"{catalogue.CATALOGUE_DIR / 'error-burst.yml'}") in listed.text
    assert f"user drill refused: {drills / 'draft.yml'}: not valid YAML" in listed.text
    clash = lab.run("drill", "start", "error-burst")
    assert clash.exit_code == ExitStatus.USAGE
    assert str(drills / "error-burst.yml") in clash.text and str(catalogue.CATALOGUE_DIR / "error-burst.yml") in \
        clash.text
    # A user drill is found by id like a catalogue one: this start gets as far as the lab (none is running).
    found = lab.run("drill", "start", "my-drill")
    assert found.exit_code == ExitStatus.NOT_RUNNING, found.output
    unknown = lab.run("drill", "start", "nope")
    assert unknown.exit_code == ExitStatus.USAGE and "my-drill" in unknown.text  # listed among the valid ids


def test_a_user_drills_guide_lives_beside_its_file(drills: Path) -> None:
    path = written(drills)
    drill = catalogue.load_file(path, user=True)
    assert catalogue.guide_path(drill, path) == drills / "my-drill.md"
    with pytest.raises(catalogue.CatalogueError, match=r"must be the drill guide runbooks/drills/my-drill\.md"):
        catalogue.load_file(path)  # the catalogue's own rule stays strict


def _timed_drill(directory: Path) -> Path:
    path = written(directory)
    reason = next(line for line in path.read_text().splitlines(keepends=True) if line.startswith("    reason:"))
    path.write_text(path.read_text().replace(
        reason,
        reason + "  - {type: config_flag, flag: extra_latency_ms, value: 5, actor: a, reason: b, "
        "after: 30s, window: 1m}\n  - {type: upstream_stall, note: n, after: 2s}\n"))
    return path


def test_the_fault_schedule_is_seeded_recorded_and_within_each_window(tmp_path: Path, drills: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOPS_STATE_DIR", str(tmp_path / "state"))
    drill = catalogue.load_file(_timed_drill(drills), user=True)
    delays = []
    for run, seed in enumerate((7, 7, 8)):
        j = Journal(run_id=f"run{run}", drill_id=drill.id, started_at=1000.0, injected_at=1010.0, schedule_seed=seed)
        now = schedule.plan(j, drill)
        assert [f.type for f in now] == ["config_flag"]  # only the first fault has no delay
        assert [s["index"] for s in schedule.pending(j)] == [1, 2]
        delays.append([s["delay_s"] for s in j.schedule])
        notes = [e.detail for e in j.events if e.kind == "schedule"]
        assert len(notes) == 2 and f"seed {seed}" in notes[0] and "fault 3 (upstream_stall)" in notes[1]
    assert delays[0] == delays[1] != delays[2]  # the seed fixes the moments
    for d in delays:
        assert d[0] == 0 and 30 <= d[1] <= 90 and d[2] == 2
    j.add("injection", "fault 2 ...", schedule_index=1)
    assert [s["index"] for s in schedule.pending(j)] == [2]


def test_saving_the_journal_keeps_what_another_process_appended(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduler injects a delayed fault while a CLI command holds an older copy of the journal: the
    command's save must not drop the scheduler's rollback, or ``drill stop`` could not undo that fault."""
    monkeypatch.setenv("AIOPS_STATE_DIR", str(tmp_path / "state"))
    jr.save(Journal(run_id="r", drill_id="d", started_at=1.0))
    cli_copy, scheduler_copy = jr.load_current(), jr.load_current()
    assert cli_copy is not None and scheduler_copy is not None
    scheduler_copy.rollbacks.append(RollbackAction(kind="config_flag", params={"flag": "f", "value": 0},
                                                   description="restore f to 0"))
    scheduler_copy.add("injection", "fault 2 injected")
    jr.save(scheduler_copy)
    cli_copy.add("hint", "hint 1 used")
    cli_copy.hints_used = 1
    jr.save(cli_copy)
    merged = jr.load_current()
    assert merged is not None and merged.hints_used == 1
    assert [a.description for a in merged.rollbacks] == ["restore f to 0"]
    assert {e.kind for e in merged.events} == {"injection", "hint"}


def test_a_directory_named_twice_on_the_path_holds_its_drills_once(tmp_path: Path, drills: Path) -> None:
    """``drill rehearse`` puts the drill's directory first on the path, which may already name it."""
    written(drills)
    lab = Lab.create(tmp_path / "state", AIOPS_DRILLS_PATH=f"{drills}{os.pathsep}{drills}/.")
    listed = lab.run("drill", "list")
    assert "my-drill" in listed.text and "refused" not in listed.text, listed.text


def test_rehearse_rejects_an_invalid_file_before_touching_any_lab(lab: Lab, drills: Path) -> None:
    path = written(drills)
    path.write_text(path.read_text().replace("flag: error_ratio", "flag: error_rate"))
    done = lab.run("drill", "rehearse", str(path), "--lab", "current")
    assert done.exit_code == ExitStatus.CHECK_FAILED, done.output
    assert "rehearsal failed at stage 'validate'" in done.text and "faults.0.flag: unknown flag" in done.text
    assert "Traceback" not in done.output


def test_a_private_lab_gets_its_own_state_and_ports_and_nothing_of_the_callers_lab(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiops_core.topology import COMPONENTS

    monkeypatch.setenv("AIOPS_MODEL_SERVICE_PORT", "8000")
    monkeypatch.setenv("AIOPS_DRILLS_PATH", str(tmp_path))
    ports = private_lab.free_ports()
    assert set(ports) == {c.port_env for c in COMPONENTS} and len(set(ports.values())) == len(ports)
    assert not {int(p) for p in ports.values()} & {c.default_port for c in COMPONENTS}
    env = private_lab.environment(tmp_path / "state", ports)
    assert env["AIOPS_STATE_DIR"] == str(tmp_path / "state") and env["AIOPS_MODEL_SERVICE_PORT"] != "8000"
    assert env["AIOPS_DRILLS_PATH"] == str(tmp_path)  # the user's drills stay visible to the private lab


def test_a_debriefs_shell_line_runs_on_the_rehearsed_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``drill rehearse`` plays a guide's shell line (written for the default lab: port 8000, ``.lab/``) on
    the lab it rehearses on, with this interpreter's ``python``: service-hung's ``ps`` line read the pid
    of the caller's own lab before."""
    from labs.drills import rehearse

    state = tmp_path / "state"
    (state / "run").mkdir(parents=True)
    (state / "run" / "lab.json").write_text('{"components": {"model-service": {"pid": 4242}}}')
    lab = lab_of(state, monkeypatch, AIOPS_MODEL_SERVICE_PORT="18000")
    assert rehearse.on_this_lab(lab, "curl -s http://127.0.0.1:8000/readyz") == "curl -s http://127.0.0.1:18000/readyz"
    done = rehearse.run_shell(lab, "cat .lab/run/lab.json | python -c 'import json,sys;print("
                                   "json.load(sys.stdin)[\"components\"][\"model-service\"][\"pid\"])'")
    assert done.returncode == 0 and done.stdout.strip() == "4242", done.stdout + done.stderr


def test_a_mitigation_step_that_is_an_instruction_cannot_be_rehearsed(tmp_path: Path, drills: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from labs.drills import rehearse
    from labs.drills.catalogue import load_file

    path = written(drills)
    path.write_text(path.read_text().replace("    - aiops-lab config history\n",
                                             "    - edit the config back by hand\n"))
    with pytest.raises(rehearse.StageFailed, match="step 1 is an instruction, not a command"):
        rehearse.mitigate(lab_of(tmp_path / "state", monkeypatch), load_file(path, user=True))


def lab_of(state: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> private_lab.EnvLab:
    """The lab this process's environment points at, as ``drill rehearse`` sees it."""
    monkeypatch.setenv("AIOPS_STATE_DIR", str(state))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return private_lab.EnvLab(dict(os.environ))


class ScriptedCheckLab:
    """A lab whose ``drill check`` answers from a script: the check-fails stage's polling, without a lab."""

    def __init__(self, state: Path, exits: list[int]) -> None:
        self.env: dict[str, str] = {}
        self._state, self.exits, self.calls = state, exits, 0

    @property
    def state(self) -> Path:
        return self._state

    def url(self, component: str) -> str:
        return "http://127.0.0.1:9"

    def cli(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        assert args == ("drill", "check"), args
        code = self.exits[min(self.calls, len(self.exits) - 1)]
        self.calls += 1
        return subprocess.CompletedProcess(args, code, " FAIL x" if code else " PASS x", "")


def test_the_check_fails_stage_waits_for_the_fault_to_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI saw a drill with no expected alert rejected because its 5xx ratio over 15 s was still 0 one second
    after the start: a passing check is "not yet" until the deadline, and a check that never sees the fault
    is still rejected."""
    from aiops_core.errors import ExitStatus
    from labs.drills import rehearse

    monkeypatch.setattr(rehearse, "POLL_S", 0.01)
    failed = int(ExitStatus.CHECK_FAILED)
    late = ScriptedCheckLab(tmp_path, [0, 0, failed])
    assert "FAIL" in rehearse.assert_check_fails(late, deadline_s=5)
    assert late.calls == 3
    never = ScriptedCheckLab(tmp_path, [0])
    with pytest.raises(rehearse.StageFailed, match=r"still passed 0 s into the fault.*do not see the fault"):
        rehearse.assert_check_fails(never, deadline_s=0.2)
    assert never.calls > 1
    broken = ScriptedCheckLab(tmp_path, [2])
    with pytest.raises(rehearse.StageFailed, match="failed to run"):
        rehearse.assert_check_fails(broken, deadline_s=5)


def test_a_lab_is_reached_with_its_own_token_and_target_whatever_this_process_env_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool's worker threads act on their labs while the main thread runs the CLI in-process, and click's
    runner sets that run's environment in os.environ: CI saw a clean-stop check answered 403 "the bearer
    token is wrong" because a thread read the foreground test's AIOPS_ADMIN_TOKEN. A lab's token and target
    come from the lab's env and state dir, never from this process's."""
    from labs.drills import lab_state
    from labs.stack import labview

    state = tmp_path / "state"
    (state / "run").mkdir(parents=True)
    (state / "admin-token").write_text("the-labs-own-token\n")
    (state / "run" / "lab.json").write_text(json.dumps(
        {"supervisor_pid": 1, "mode": "lab", "started_at": "2026-01-01T00:00:00+00:00", "components": {}}))
    monkeypatch.setenv("AIOPS_ADMIN_TOKEN", "a-foreground-tests-token")
    monkeypatch.setenv("AIOPS_TARGET", "compose")
    lab = ScriptedCheckLab(state, [0])
    assert lab_state.service(lab).token == "the-labs-own-token"
    assert lab_state.pager(lab).token == "the-labs-own-token"
    assert labview.load(state, lab_target="native") is not None  # the native record, not the compose view
    lab.env = {"AIOPS_ADMIN_TOKEN": "set-for-this-lab"}
    assert lab_state.service(lab).token == "set-for-this-lab"
