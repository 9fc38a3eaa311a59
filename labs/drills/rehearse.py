"""``aiops-lab drill rehearse FILE``: prove a drill works before anyone plays it.

The drill is played on a lab the way a learner would, through the real CLI: validate -> ``drill start`` ->
an expected alert reaches the pager (within the deadline the fastest one's rule, ``for:`` and windows,
allows: ``labs.drills.alert_rules``) -> ``drill check`` fails (the fault really breaks what the checks measure) ->
the debrief's mitigation, run as written -> ``drill check`` passes -> ``drill stop`` -> nothing is left behind
(``labs.drills.lab_state``). Each stage is timed; the first that fails ends the rehearsal with its reason.

The caller points the process's environment at the lab (a private one: ``labs.drills.private_lab``); the
CLI steps run as subprocesses in that environment, the drill's directory put first on ``AIOPS_DRILLS_PATH``.

The stages are functions of a ``DrillLab`` (``labs.drills.lab_state``): the end-to-end tests play every
catalogue drill with them on the labs of their pool, adding only what a test verifies beyond a rehearsal
(the guides' commands, wrong moves, the report and its score).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from aiops_core.errors import ExitStatus, LabError
from aiops_core.prometheus import Prometheus
from aiops_core.topology import COMPONENTS, PROMETHEUS
from labs.drills import alert_rules, checks, lab_state
from labs.drills import journal as jr
from labs.drills.lab_state import Baseline, DrillLab
from labs.drills.private_lab import EnvLab
from labs.drills.references import SHELL_TOOLS
from labs.drills.schema import Drill, PromCheck
from labs.drills.validate import is_catalogue_file, validate

FAULT_VISIBLE_S = 30.0  # a fault shows in a check within a few scrapes (2 s each in lab mode) and rate windows
POLL_S = 1.0  # a pager or PromQL query per second; the CLI's own check only once the PromQL checks hold
PROGRESS_EVERY_S = 15.0
DIAGNOSIS = {"status"}  # `aiops-lab status` exits 1 while something is down: that is what it is for
SHELL_TIMEOUT_S = 90.0
Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """No progress lines (the tests' pool: its failure messages carry the lab's last CLI outputs)."""


class StageFailed(Exception):
    """A stage of the drill did not do what the drill promises; the message is the reason."""


def poll(what: str, deadline_s: float, probe: Callable[[], bool], progress: Progress = quiet) -> bool:
    """``probe`` every ``POLL_S`` until it holds or ``deadline_s`` passes. A component that does not answer
    for a moment (a restart the mitigation made) is "not yet", not a failure."""
    began = time.monotonic()
    end, said = began + deadline_s, began
    while True:
        try:
            if probe():
                return True
        except (LabError, httpx.HTTPError, OSError):
            pass
        now = time.monotonic()
        if now >= end:
            return False
        if now - said >= PROGRESS_EVERY_S:
            said = now
            progress(f"...  waiting for {what}: {end - now:.0f} s left of {deadline_s:.0f} s")
        time.sleep(POLL_S)


def _tail(done: subprocess.CompletedProcess[str], chars: int = 800) -> str:
    return (done.stdout + done.stderr)[-chars:]


# --- the stages, on any lab -------------------------------------------------------------------------------


def start(lab: DrillLab, drill_id: str, wait: bool = False) -> tuple[jr.Journal, str]:
    """``drill start`` (``--no-wait`` unless ``wait``): the running drill's journal and what start printed."""
    done = lab.cli("drill", "start", drill_id, *(() if wait else ("--no-wait",)))
    if done.returncode != 0:
        raise StageFailed(f"drill start failed (exit {done.returncode}):\n{_tail(done, 1500)}")
    j = jr.load_current(lab.state)
    if j is None or j.injected_at is None or j.drill_id != drill_id:
        raise StageFailed(f"drill start returned but drill {drill_id} is not running")
    return j, done.stdout


def acknowledge(lab: DrillLab) -> None:
    """``drill ack``: how a drill that no rule covers is detected."""
    done = lab.cli("drill", "ack")
    if done.returncode != 0 or "acknowledged" not in done.stdout:
        raise StageFailed(f"drill ack failed (exit {done.returncode}):\n{_tail(done)}")


def wait_for_pages(lab: DrillLab, drill: Drill, injected_at: float, deadline_s: float,
                   progress: Progress = quiet) -> dict[str, float]:
    """Wait for the first of the drill's expected alerts to reach the pager (the deadline is the fastest
    one's, ``alert_rules.page_deadline``; the learner is told by the first page, as the score's TTD says).
    Returns expected alert -> seconds from the injection to its page, in paging order: the first, and any
    other that paged by then."""
    expected = set(drill.expected_alerts)
    client = lab_state.pager(lab)
    paged: dict[str, float] = {}

    def arrived() -> bool:
        for p in client.pages_since(injected_at) or []:
            if p["alertname"] in expected and p["alertname"] not in paged:
                paged[p["alertname"]] = round(p["paged_at"] - injected_at, 1)
                progress(f"...  {p['alertname']} paged after {paged[p['alertname']]:.0f} s")
        return bool(paged)

    if not poll("the expected pages", deadline_s, arrived, progress):
        raise StageFailed(f"{', '.join(sorted(expected))} never reached the pager within {deadline_s:.0f} s "
                          "(the alert never fired: does the fault move what its rule measures?)")
    return paged


def assert_check_fails(lab: DrillLab, drill: Drill | None = None, deadline_s: float = FAULT_VISIBLE_S,
                       progress: Progress = quiet) -> str:
    """``drill check`` fails while the fault is in (the checks see it); returns what it printed.

    A fault takes a scrape or two to show in what a check measures (a 5xx ratio over the last 15 s is still
    0 right after the flag flips): after a page it is there, but a drill with no alert to wait for comes here
    a second after ``drill start``. So a passing check is "not yet" until ``deadline_s``; with ``drill``, its
    PromQL checks are evaluated first and the CLI only runs once one of them fails (a CLI run costs a second
    of CPU)."""
    prom_only = drill is not None and bool(drill.checks) and all(isinstance(c, PromCheck) for c in drill.checks)
    prom = Prometheus(lab.url(PROMETHEUS.name)) if prom_only else None
    seen = [""]

    def fails() -> bool:
        if prom is not None and drill is not None and all(checks.promql(c, prom).passed for c in drill.checks):
            return False
        done = lab.cli("drill", "check")
        if done.returncode == 0:
            return False
        if done.returncode != int(ExitStatus.CHECK_FAILED) or "FAIL" not in done.stdout:
            raise StageFailed(f"drill check failed to run (exit {done.returncode}): {_tail(done)}")
        seen[0] = done.stdout
        return True

    if not poll("drill check to see the fault", deadline_s, fails, progress):
        raise StageFailed(f"drill check still passed {deadline_s:.0f} s into the fault, before any mitigation: "
                          "the checks do not see the fault")
    return seen[0]


def on_this_lab(lab: DrillLab, line: str) -> str:
    """A guide's or debrief's shell line for ``lab``: the docs use the default ports and ``.lab/``; a private
    lab listens on ports of its own and keeps its state elsewhere."""
    for comp in COMPONENTS:
        port = lab.env.get(comp.port_env)
        if not port or port == str(comp.default_port):
            continue
        for end in ("/", "'", '"', " "):
            line = line.replace(f"127.0.0.1:{comp.default_port}{end}", f"127.0.0.1:{port}{end}")
        if line.endswith(f"127.0.0.1:{comp.default_port}"):
            line = line[: -len(str(comp.default_port))] + port
    return line.replace(".lab/", f"{lab.state}/")


def run_shell(lab: DrillLab, line: str) -> subprocess.CompletedProcess[str]:
    """A shell line as written, on ``lab``: ``python`` and ``aiops-lab`` are this interpreter's (first on
    PATH), and ``.lab/`` is the lab's state dir."""
    env = dict(lab.env)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return subprocess.run(["bash", "-c", on_this_lab(lab, line)], env=env, cwd=lab.state.parent,
                          capture_output=True, text=True, timeout=SHELL_TIMEOUT_S, stdin=subprocess.DEVNULL,
                          check=False)


def mitigation_lines(drill: Drill) -> list[tuple[str, str]]:
    """The debrief's mitigation as (kind, text): cli | shell | manual (an instruction, not a command)."""
    out = []
    for line in drill.debrief.mitigation:
        text = line.strip()
        if text.startswith("aiops-lab "):
            out.append(("cli", text))
        elif text.split(" ", 1)[0] in SHELL_TOOLS:
            out.append(("shell", text))
        else:
            out.append(("manual", text))
    return out


def mitigate(lab: DrillLab, drill: Drill, progress: Progress = quiet,
             manual: Callable[[], None] | None = None) -> None:
    """Run the debrief's mitigation as written: CLI lines as ``aiops-lab`` commands, shell lines through
    bash. An instruction is done by ``manual`` (once, for all of them: a test knows how to edit a file),
    and without one the drill cannot be rehearsed."""
    manual_done = False
    for i, (kind, text) in enumerate(mitigation_lines(drill), 1):
        if kind == "manual":
            if manual is None:
                raise StageFailed(f"mitigation step {i} is an instruction, not a command: {text!r}")
            if not manual_done:
                manual()
                manual_done = True
            continue
        if kind == "cli":
            args = shlex.split(text)[1:]
            done = lab.cli(*args)
            allowed: tuple[int, ...] = (0, 1) if args and args[0] in DIAGNOSIS else (0,)
        else:
            done = run_shell(lab, text)
            allowed = (0,)
        if done.returncode not in allowed or "Traceback" in done.stderr:
            raise StageFailed(f"mitigation step {i} `{text}` exited {done.returncode}:\n{_tail(done)}")
        progress(f"...  ran: {text}")


def wait_recovered(lab: DrillLab, drill: Drill, deadline_s: float, progress: Progress = quiet) -> str:
    """Poll until ``drill check`` passes; returns what the passing check printed. The PromQL checks are
    first evaluated here, against the lab's Prometheus: while one of them fails the CLI's verdict could
    only be "FAIL", and a CLI run costs a second of CPU (seven labs polling side by side cannot afford it)."""
    prom = Prometheus(lab.url(PROMETHEUS.name))
    prom_checks = [c for c in drill.checks if isinstance(c, PromCheck)]
    last = [""]

    def passes() -> bool:
        pending = [r for r in (checks.promql(c, prom) for c in prom_checks) if not r.passed]
        if pending:
            last[0] = "(drill check not run: the PromQL checks do not hold yet) " + "; ".join(
                f"{r.name}: {r.detail}" for r in pending)
            return False
        done = lab.cli("drill", "check")
        last[0] = done.stdout + done.stderr
        if done.returncode not in (0, int(ExitStatus.CHECK_FAILED)):
            raise StageFailed(f"drill check failed to run (exit {done.returncode}): {_tail(done)}")
        return done.returncode == 0

    if not poll("drill check to pass", deadline_s, passes, progress):
        raise StageFailed(f"the mitigation did not restore the service: drill check still fails after "
                          f"{deadline_s:.0f} s; last: {last[0][-800:]}")
    return last[0]


def stop_clean(lab: DrillLab, before: Baseline) -> None:
    """``drill stop``, then nothing of the drill is left (``lab_state.leftovers``), each leftover named."""
    j = jr.load_current(lab.state)
    traffic, scheduler = (j.traffic_pid, j.scheduler_pid) if j is not None else (None, None)
    done = lab.cli("drill", "stop")
    if done.returncode != 0:
        raise StageFailed(f"drill stop failed (exit {done.returncode}):\n{_tail(done)}")
    left = lab_state.leftovers(lab, before, traffic, scheduler)
    if left:
        raise StageFailed("drill stop left state behind: " + "; ".join(left))


# --- the rehearsal ----------------------------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    seconds: float
    detail: str


@dataclass
class Verdict:
    drill_id: str
    stages: list[Stage] = field(default_factory=list)
    ttd_s: dict[str, float] = field(default_factory=dict)  # expected alert -> injection to page
    ttm_s: float | None = None  # injection to the passing check
    failed: str | None = None  # the stage that failed
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.failed is None


class Rehearsal:
    def __init__(self, file: Path, progress: Progress, page_slack_s: float) -> None:
        self.file, self.progress, self.page_slack_s = Path(file), progress, page_slack_s
        env = dict(os.environ)
        if not is_catalogue_file(self.file):
            here = str(self.file.resolve().parent)
            env["AIOPS_DRILLS_PATH"] = os.pathsep.join(p for p in (here, env.get("AIOPS_DRILLS_PATH")) if p)
        self.lab = EnvLab(env)
        self.verdict = Verdict(self.file.stem)
        self.injected_at = 0.0
        self._mark = time.monotonic()

    def _done(self, name: str, detail: str) -> None:
        now = time.monotonic()
        self.verdict.stages.append(Stage(name, round(now - self._mark, 1), detail))
        self._mark = now
        self.progress(f"ok   {name}: {detail}")

    def check_file(self) -> Drill:
        result = validate(self.file)
        if not result.valid or result.drill is None:
            raise StageFailed("the drill file is invalid:\n" + "\n".join(str(p) for p in result.errors))
        self.verdict.drill_id = result.drill.id
        self._done("validate", f"{self.file} is valid ({len(result.warnings)} warning(s))")
        return result.drill

    def start(self, drill: Drill) -> Baseline:
        before = lab_state.baseline(self.lab)
        j, _ = start(self.lab, drill.id)
        self.injected_at = j.injected_at or 0.0
        self._done("start", f"{len(drill.faults)} fault(s); run {j.run_id}")
        return before

    def page(self, drill: Drill) -> None:
        if not drill.expected_alerts:
            acknowledge(self.lab)
            self._done("page", "no expected alert: acknowledged by hand")
            return
        deadline = alert_rules.page_deadline(drill, alert_rules.loaded_timings(self.lab.state), self.page_slack_s)
        self.progress(f"...  waiting up to {deadline:.0f} s for {', '.join(sorted(drill.expected_alerts))} "
                      "to reach the pager")
        self.verdict.ttd_s = wait_for_pages(self.lab, drill, self.injected_at, deadline, self.progress)
        self._done("page", ", ".join(f"{a} after {s:.0f} s" for a, s in self.verdict.ttd_s.items()))

    def recover(self, drill: Drill) -> None:
        wait_recovered(self.lab, drill, alert_rules.check_deadline(drill), self.progress)
        j = jr.load_current(self.lab.state)
        if j is not None and j.passed_at is not None:
            self.verdict.ttm_s = round(j.passed_at - self.injected_at, 1)
        self._done("recover", "drill check passes" + (f" {self.verdict.ttm_s:.0f} s after the injection"
                                                       if self.verdict.ttm_s is not None else ""))

    def run(self) -> Verdict:
        stage, drill, before = "validate", None, None
        try:
            drill = self.check_file()
            stage = "start"
            before = self.start(drill)
            stage = "page"
            self.page(drill)
            stage = "check fails"
            assert_check_fails(self.lab, drill, progress=self.progress)
            self._done("check fails", "drill check fails while the fault is in")
            stage = "mitigate"
            mitigate(self.lab, drill, self.progress)
            self._done("mitigate", f"{len(drill.debrief.mitigation)} step(s) ran")
            stage = "recover"
            self.recover(drill)
            stage = "clean stop"
            stop_clean(self.lab, before)
            self._done("clean stop", "flags, model, scrape config, processes and faults as before the drill")
        except (StageFailed, LabError, subprocess.TimeoutExpired) as exc:
            self.verdict.failed = stage
            self.verdict.reason = exc.message if isinstance(exc, LabError) else str(exc)
            if before is not None and stage != "clean stop":
                self.lab.cli("drill", "stop")  # never leave the failed drill running on the lab
        except KeyboardInterrupt:
            if before is not None:
                self.progress("interrupted: stopping the drill")
                self.lab.cli("drill", "stop")
            raise
        return self.verdict


def rehearse(file: Path, progress: Progress = print,
             page_slack_s: float = alert_rules.REHEARSE_PAGE_SLACK_S) -> Verdict:
    """Play ``file`` on the lab the environment points at; the verdict says which stage failed and why."""
    return Rehearsal(file, progress, page_slack_s).run()
