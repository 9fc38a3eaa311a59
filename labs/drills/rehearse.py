"""``aiops-lab drill rehearse FILE``: prove a drill works before anyone plays it.

The drill is played on a lab the way a learner would, through the real CLI: validate -> ``drill start`` ->
every expected alert reaches the pager (within the deadline its rules' ``for:`` and windows allow,
``labs.drills.alert_rules``) -> ``drill check`` fails (the fault really breaks what the checks measure) ->
the debrief's mitigation, run as written -> ``drill check`` passes -> ``drill stop`` -> nothing is left behind
(``labs.drills.lab_state``). Each stage is timed; the first that fails ends the rehearsal with its reason.

The caller points the process's environment at the lab (a private one: ``labs.drills.private_lab``); the
CLI steps run as subprocesses in that environment, the drill's directory put first on ``AIOPS_DRILLS_PATH``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiops_core.errors import ExitStatus, LabError
from aiops_core.prometheus import Prometheus
from labs.drills import alert_rules, checks, lab_state
from labs.drills import journal as jr
from labs.drills.private_lab import run_cli
from labs.drills.references import SHELL_TOOLS
from labs.drills.schema import Drill, PromCheck
from labs.drills.validate import is_catalogue_file, validate
from labs.pager.client import PagerClient

POLL_S = 2.0
PROGRESS_EVERY_S = 15.0
DIAGNOSIS = {"status"}  # `aiops-lab status` exits 1 while something is down: that is what it is for


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


class StageFailed(Exception):
    pass


class Rehearsal:
    def __init__(self, file: Path, progress: Callable[[str], None], page_slack_s: float) -> None:
        self.file, self.progress, self.page_slack_s = Path(file), progress, page_slack_s
        self.env = dict(os.environ)
        if not is_catalogue_file(self.file):
            here = str(self.file.resolve().parent)
            self.env["AIOPS_DRILLS_PATH"] = os.pathsep.join(p for p in (here, self.env.get("AIOPS_DRILLS_PATH"))
                                                            if p)
        self.drill: Drill | None = None
        self.verdict = Verdict(self.file.stem)
        self.injected_at = 0.0
        self._mark = time.monotonic()

    # --- helpers ------------------------------------------------------------------------------------------

    def _done(self, name: str, detail: str) -> None:
        now = time.monotonic()
        self.verdict.stages.append(Stage(name, round(now - self._mark, 1), detail))
        self._mark = now
        self.progress(f"ok   {name}: {detail}")

    def _cli(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return run_cli(self.env, *args, timeout=timeout)

    def _wait(self, what: str, deadline_s: float, probe: Callable[[], bool]) -> bool:
        end, said = time.monotonic() + deadline_s, time.monotonic()
        while time.monotonic() < end:
            if probe():
                return True
            if time.monotonic() - said >= PROGRESS_EVERY_S:
                said = time.monotonic()
                self.progress(f"...  waiting for {what}: {end - said:.0f} s left of {deadline_s:.0f} s")
            time.sleep(POLL_S)
        return probe()

    # --- the stages ---------------------------------------------------------------------------------------

    def check_file(self) -> Drill:
        result = validate(self.file)
        if not result.valid or result.drill is None:
            raise StageFailed("the drill file is invalid:\n" + "\n".join(str(p) for p in result.errors))
        self.verdict.drill_id = result.drill.id
        self._done("validate", f"{self.file} is valid ({len(result.warnings)} warning(s))")
        return result.drill

    def start(self, drill: Drill) -> lab_state.Baseline:
        before = lab_state.baseline()
        done = self._cli("drill", "start", drill.id, "--no-wait")
        if done.returncode != 0:
            raise StageFailed(f"drill start failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-1500:]}")
        j = jr.load_current()
        if j is None or j.injected_at is None:
            raise StageFailed("drill start returned but no drill is running")
        self.injected_at = j.injected_at
        self._done("start", f"{len(drill.faults)} fault(s); run {j.run_id}")
        return before

    def page(self, drill: Drill) -> None:
        if not drill.expected_alerts:
            self._cli("drill", "ack")
            self._done("page", "no expected alert: acknowledged by hand")
            return
        deadline = alert_rules.page_deadline(drill, alert_rules.loaded_timings(), self.page_slack_s)
        missing = set(drill.expected_alerts)
        self.progress(f"...  waiting up to {deadline:.0f} s for {', '.join(sorted(missing))} to reach the pager")

        def arrived() -> bool:
            for p in PagerClient().pages_since(self.injected_at) or []:
                if p["alertname"] in missing:
                    self.verdict.ttd_s[p["alertname"]] = round(p["paged_at"] - self.injected_at, 1)
                    missing.discard(p["alertname"])
                    self.progress(f"...  {p['alertname']} paged after {self.verdict.ttd_s[p['alertname']]:.0f} s")
            return not missing

        if not self._wait("the expected pages", deadline, arrived):
            raise StageFailed(f"{', '.join(sorted(missing))} never reached the pager within {deadline:.0f} s "
                              "(the alert never fired: does the fault move what its rule measures?)")
        self._done("page", ", ".join(f"{a} after {s:.0f} s" for a, s in self.verdict.ttd_s.items()))

    def check_fails(self) -> None:
        done = self._cli("drill", "check")
        if done.returncode == 0:
            raise StageFailed("drill check passed before any mitigation: the checks do not see the fault")
        if done.returncode != int(ExitStatus.CHECK_FAILED):
            raise StageFailed(f"drill check failed to run (exit {done.returncode}): {done.stderr[-800:]}")
        self._done("check fails", "drill check fails while the fault is in")

    def mitigate(self, drill: Drill) -> None:
        for i, line in enumerate(drill.debrief.mitigation, 1):
            text = line.strip()
            if text.startswith("aiops-lab "):
                args = shlex.split(text)[1:]
                done = self._cli(*args)
                allowed = (0, 1) if args and args[0] in DIAGNOSIS else (0,)
            elif text.split(" ", 1)[0] in SHELL_TOOLS:
                done = subprocess.run(["bash", "-c", text], env=self.env, capture_output=True, text=True,
                                      timeout=90, stdin=subprocess.DEVNULL, check=False)
                allowed = (0,)
            else:
                raise StageFailed(f"mitigation step {i} is an instruction, not a command: {text!r}")
            if done.returncode not in allowed:
                raise StageFailed(f"mitigation step {i} `{text}` exited {done.returncode}:\n"
                                  f"{(done.stdout + done.stderr)[-800:]}")
            self.progress(f"...  ran: {text}")
        self._done("mitigate", f"{len(drill.debrief.mitigation)} step(s) ran")

    def recover(self, drill: Drill) -> None:
        deadline = alert_rules.check_deadline(drill)
        prom = Prometheus()
        prom_checks = [c for c in drill.checks if isinstance(c, PromCheck)]
        last = [""]

        def passes() -> bool:
            pending = [r for r in (checks.promql(c, prom) for c in prom_checks) if not r.passed]
            if pending:  # the CLI could only say FAIL: do not pay its start-up every 2 s
                last[0] = "; ".join(f"{r.name}: {r.detail}" for r in pending)
                return False
            done = self._cli("drill", "check")
            last[0] = done.stdout[-800:]
            return done.returncode == 0

        if not self._wait("drill check to pass", deadline, passes):
            raise StageFailed(f"the mitigation did not restore the service: drill check still fails after "
                              f"{deadline:.0f} s; last: {last[0]}")
        j = jr.load_current()
        if j is not None and j.passed_at is not None:
            self.verdict.ttm_s = round(j.passed_at - self.injected_at, 1)
        self._done("recover", "drill check passes" + (f" {self.verdict.ttm_s:.0f} s after the injection"
                                                       if self.verdict.ttm_s is not None else ""))

    def stop(self, before: lab_state.Baseline) -> None:
        j = jr.load_current()
        traffic, scheduler = (j.traffic_pid, j.scheduler_pid) if j is not None else (None, None)
        done = self._cli("drill", "stop")
        if done.returncode != 0:
            raise StageFailed(f"drill stop failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-800:]}")
        left = lab_state.leftovers(before, traffic, scheduler)
        if left:
            raise StageFailed("drill stop left state behind: " + "; ".join(left))
        self._done("clean stop", "flags, model, processes and faults as before the drill")

    def run(self) -> Verdict:
        stage, drill, before = "validate", None, None
        try:
            drill = self.check_file()
            stage = "start"
            before = self.start(drill)
            stage = "page"
            self.page(drill)
            stage = "check fails"
            self.check_fails()
            stage = "mitigate"
            self.mitigate(drill)
            stage = "recover"
            self.recover(drill)
            stage = "clean stop"
            self.stop(before)
        except (StageFailed, LabError, subprocess.TimeoutExpired) as exc:
            self.verdict.failed = stage
            self.verdict.reason = exc.message if isinstance(exc, LabError) else str(exc)
            if before is not None and stage != "clean stop":
                self._cli("drill", "stop")  # never leave the failed drill running on the lab
        except KeyboardInterrupt:
            if before is not None:
                self.progress("interrupted: stopping the drill")
                self._cli("drill", "stop")
            raise
        return self.verdict


def rehearse(file: Path, progress: Callable[[str], None] = print,
             page_slack_s: float = alert_rules.REHEARSE_PAGE_SLACK_S) -> Verdict:
    """Play ``file`` on the lab the environment points at; the verdict says which stage failed and why."""
    return Rehearsal(file, progress, page_slack_s).run()
