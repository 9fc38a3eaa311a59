"""Pool jobs of drill authoring (``test_authoring_on_a_lab.py`` reports them): a user-written drill rehearsed
end to end, broken drills rejected with their reason, and faults that start later than the injection.

Each runs on one of the pool's labs (``jobs.py``) with ``--lab current``, so the minutes of alert windows
overlap the rest of the suite instead of adding to it. The user's drills live in a directory beside the
lab's state dir, put on ``AIOPS_DRILLS_PATH`` for the job's commands only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from aiops_core.polling import wait_until
from labs.drills import lab_state, scaffold
from labs.drills.alert_rules import REHEARSE_PAGE_SLACK_S, check_deadline
from labs.drills.catalogue import CATALOGUE_DIR, load_file
from model_service.runtime_config import RuntimeConfig
from tests.labs.drills import steps
from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job
from tests.support.lab import normal
from tests.support.speed import scaled

REHEARSE_TIMEOUT_S = 900  # the CLI's own deadlines end it long before; this only bounds a hung command
EXAMPLE_ALERT = scaffold.EXAMPLE_ALERT
DEFAULTS = RuntimeConfig().model_dump()


@contextlib.contextmanager
def user_drills(lab: Lab) -> Iterator[Path]:
    """A drill directory on ``AIOPS_DRILLS_PATH`` for this job's commands (the lab's env is shared)."""
    directory = lab.state.parent / "my-drills"
    directory.mkdir(exist_ok=True)
    lab.env["AIOPS_DRILLS_PATH"] = str(directory)
    try:
        yield directory
    finally:
        lab.env.pop("AIOPS_DRILLS_PATH", None)


def written_drill(directory: Path, drill_id: str, edit: dict[str, str] | None = None) -> Path:
    """The scaffold with every TODO written, and ``edit`` (old -> new text) applied: what an author makes."""
    path, guide = scaffold.write(drill_id, directory)
    text = path.read_text().replace(scaffold.TODO, "Written")
    for old, new in (edit or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)
    guide.write_text(guide.read_text().replace(scaffold.TODO, "Written"))
    return path


def rehearse(lab: Lab, path: Path) -> tuple[int, str]:
    done = lab.cli("drill", "rehearse", str(path), "--lab", "current", timeout=REHEARSE_TIMEOUT_S)
    lab.traffic_stopped_at = time.time()
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, normal(done.stdout + done.stderr)


def rehearse_user_drill(lab: Lab) -> str:
    """An author's drill, from the scaffold, proven on the lab: every stage passes, TTD and TTM measured."""
    steps.wait_alerts_clear(lab, {EXAMPLE_ALERT})
    with user_drills(lab) as directory:
        path = written_drill(directory, "my-error-burst")
        listed = lab.cli("drill", "list")
        assert "my-error-burst" in listed.stdout and "user drill" in listed.stdout, listed.stdout
        rc, out = rehearse(lab, path)
    assert rc == 0, out
    for stage in ("validate", "start", "page", "check fails", "mitigate", "recover", "clean stop"):
        assert stage in out, f"stage {stage} missing:\n{out}"
    assert f"time to detect: {EXAMPLE_ALERT}" in out and "time to mitigate: -" not in out, out
    steps.assert_clean(lab)
    return out[out.index("time to detect"):][:120]


def rehearse_rejects_an_alert_that_never_fires(lab: Lab) -> str:
    """A harmless fault cannot page: rejected at the page stage, within the deadline the rule allows."""
    with user_drills(lab) as directory:
        path = written_drill(directory, "never-pages", {
            "flag: error_ratio\n    value: 0.6": "flag: explanations_enabled\n    value: false",
            f"expected_alerts: [{EXAMPLE_ALERT}]": "expected_alerts: [ModelServiceDown]",
            "runbooks/ModelServiceErrorBudgetBurn.md": "runbooks/ModelServiceDown.md"})
        began = time.monotonic()
        rc, out = rehearse(lab, path)
    took = time.monotonic() - began
    assert rc == 1, out
    assert "failed at stage 'page'" in out and "ModelServiceDown never reached the pager" in out, out
    assert took < 5 + REHEARSE_PAGE_SLACK_S + scaled(60), f"took {took:.0f} s"
    steps.assert_clean(lab)  # the failed rehearsal stopped its drill
    return f"rejected after {took:.0f} s"


def rehearse_rejects_a_mitigation_that_does_not_restore(lab: Lab) -> str:
    """A debrief whose commands only look around: rejected at the recover stage, naming the failing check."""
    with user_drills(lab) as directory:
        path = written_drill(directory, "no-fix", {
            f"expected_alerts: [{EXAMPLE_ALERT}]": "expected_alerts: []",
            "    - 'aiops-lab config set error_ratio 0 --reason \"Written: revert the change\"'\n": ""})
        began = time.monotonic()
        rc, out = rehearse(lab, path)
    took = time.monotonic() - began
    assert rc == 1, out
    assert "failed at stage 'recover'" in out and "the mitigation did not restore the service" in out, out
    assert "5xx ratio" in out, out  # the check that still fails is named
    assert took < check_deadline(load_file(path, user=True)) + scaled(90), f"took {took:.0f} s"
    steps.assert_clean(lab)
    return f"rejected after {took:.0f} s"


_PAUSE_DRIFT_MONITOR = ("    - 'kill -STOP -- \"-$(python -c ''import json;print(json.load(open(\".lab/run/lab.json\"))"
                        "[\"components\"][\"drift-monitor\"][\"pid\"])'')\"'\n")


def _leaves_a_pause(directory: Path) -> Path:
    """service-crash, as fast as a drill gets (no traffic to warm up, no alert to wait for, its one readiness
    check passes as soon as the restart is done), whose debrief also pauses the drift monitor."""
    text = (CATALOGUE_DIR / "service-crash.yml").read_text().replace("id: service-crash", "id: leaves-a-pause")
    text = re.sub(r"traffic:\n(?:  .*\n)+", "traffic: null\n", text)
    text = text.replace("expected_alerts: [ModelServiceDown]", "expected_alerts: []")
    text = re.sub(r"checks:\n(?:  .*\n)+?(  - type: service\n)", r"checks:\n\1", text)
    restart = "    - aiops-lab service restart model-service\n"
    assert restart in text and "type: promql" not in text, text
    path = directory / "leaves-a-pause.yml"
    path.write_text(text.replace(restart, restart + _PAUSE_DRIFT_MONITOR))
    return path


def rehearse_rejects_a_stop_that_leaves_state_behind(lab: Lab) -> str:
    """A debrief whose last step pauses the drift monitor (a process the drill never touched, so ``drill stop``
    has nothing to restore): every stage passes up to the stop, which is rejected naming the paused monitor."""
    pid = json.loads((lab.state / "run" / "lab.json").read_text())["components"]["drift-monitor"]["pid"]
    with user_drills(lab) as directory:
        path = _leaves_a_pause(directory)
        try:
            rc, out = rehearse(lab, path)
        finally:
            os.killpg(pid, signal.SIGCONT)
    assert rc == 1, out
    assert "failed at stage 'clean stop'" in out, out
    assert "drill stop left state behind: drift-monitor is not healthy" in out, out
    assert "ok recover: drill check passes" in out, out  # the mitigation itself worked
    wait_until(lambda: not lab.unhealthy(), timeout=scaled(30), what="the drift monitor to answer again")
    steps.assert_clean(lab)
    return out[out.index("drill stop left state behind"):][:160]


DELAY_S = 8.0


def _start(lab: Lab, drill_id: str) -> None:
    done = lab.cli("drill", "start", drill_id, "--no-wait")
    lab.ran.append(drill_id)
    assert done.returncode == 0, done.stdout + done.stderr
    journal = lab.journal()
    assert journal is not None and journal["drill_id"] == drill_id and journal["drill_file"], journal


def _delayed_drill(directory: Path, drill_id: str, after: str) -> Path:
    """No traffic (no warm-up): one flag at once, a second one ``after`` later."""
    return written_drill(directory, drill_id, {
        "traffic:\n  checkout: {rate_per_s: 8, batch_share: 0.2, batch_size: 20}\n  feedback_ratio: 0.5\n"
        "  warmup: 3s\n": "traffic: null\n",
        "    reason: \"Written: the change as its author described it (the learner reads this in the history)\"\n":
        "    reason: first\n  - type: config_flag\n    flag: extra_latency_ms\n    value: 7\n    actor: flags-ui\n"
        f"    reason: second\n    after: {after}\n",
        f"expected_alerts: [{EXAMPLE_ALERT}]": "expected_alerts: []"})


def delayed_fault_starts_later_and_stop_cancels_it(lab: Lab) -> str:
    """A fault with ``after:`` is injected by the scheduler process once due (seen on the service's flags),
    the journal says when; a drill stopped before its delayed fault is due leaves nothing injected."""
    with user_drills(lab) as directory:
        path = _delayed_drill(directory, "two-faults", f"{DELAY_S:.0f}s")
        _start(lab, "two-faults")
        journal = lab.journal()
        injected_at = journal["injected_at"]
        assert lab.flags()["error_ratio"] == 0.6 and lab.flags()["extra_latency_ms"] == DEFAULTS["extra_latency_ms"]
        assert journal["scheduler_pid"] and steps.running(journal["scheduler_pid"])
        wait_until(lambda: lab.flags()["extra_latency_ms"] == 7, timeout=DELAY_S + scaled(15), interval=0.2,
                   what="the delayed fault on the service's flags")
        seen_at = time.time()
        assert seen_at - injected_at >= DELAY_S - 0.5, f"injected {seen_at - injected_at:.1f} s after, too early"
        # The scheduler records the injection on the timeline just after the flag is set: wait for the entry.
        late = wait_until(lambda: [e for e in lab.journal()["events"] if e["kind"] == "injection"
                                   and e["detail"].startswith("fault 2 (config_flag) injected at")],
                          timeout=scaled(15), what="the delayed fault's entry on the timeline")
        assert len(late) == 1 and late[0]["at"] - injected_at >= DELAY_S - 0.5, late
        wait_until(lambda: not steps.running(journal["scheduler_pid"]), timeout=10, what="the scheduler to exit")
        report = lab.cli("drill", "report")
        assert "fault 2 (config_flag) injected at" in normal(report.stdout), report.stdout
        steps.stop_and_assert_clean(lab)

        _delayed_drill(directory, "cancelled", "120s")
        _start(lab, "cancelled")
        scheduler = lab.journal()["scheduler_pid"]
        steps.stop_and_assert_clean(lab)
        assert not steps.running(scheduler), "drill stop left the scheduler running"
        runs = sorted((lab.state / "drills" / "runs").glob("cancelled-*.json"))
        archived = json.loads(runs[-1].read_text())
        assert any(e["kind"] == "schedule_cancelled" for e in archived["events"]), archived["events"]
        assert lab.flags() == DEFAULTS
    assert path.is_file()
    return f"delayed fault seen {seen_at - injected_at:.1f} s after the injection"


def _leftovers(lab: Lab) -> list[str]:
    return lab_state.leftovers(lab, steps.clean_baseline(lab), None, None)


def the_clean_stop_check_names_what_was_left_behind(lab: Lab) -> str:
    """What ``drill rehearse`` asserts after ``drill stop``, against a lab where a flag was left changed and
    a component left paused (a mitigation step or a fault that stop did not undo)."""
    assert _leftovers(lab) == []
    pid = json.loads((lab.state / "run" / "lab.json").read_text())["components"]["drift-monitor"]["pid"]
    svc = lab.url("model-service")
    httpx.put(f"{svc}/admin/config/extra_latency_ms", headers=lab.admin, timeout=30,
              json={"value": 3, "reason": "test: a leftover"})
    os.killpg(pid, signal.SIGSTOP)
    try:
        left = _leftovers(lab)
    finally:
        os.killpg(pid, signal.SIGCONT)
        httpx.put(f"{svc}/admin/config/extra_latency_ms", headers=lab.admin, timeout=30,
                  json={"value": DEFAULTS["extra_latency_ms"], "reason": "test: restore"})
    assert f"flag extra_latency_ms is 3, was {DEFAULTS['extra_latency_ms']!r} before the drill" in left, left
    assert any(line.startswith("drift-monitor is not healthy") for line in left), left
    wait_until(lambda: not lab.unhealthy(), timeout=scaled(30), what="the drift monitor to answer again")
    return "; ".join(left)


# The three rehearsals mostly wait on the CLI's own deadlines (a page's, a check's: 107-171 s) with one drill's
# trickle of traffic: they run beside the heavy jobs, on labs that would otherwise idle (pool.py).
JOBS = [
    Job("rehearse_user_drill", rehearse_user_drill, cost_s=120, avoid_alerts=frozenset({EXAMPLE_ALERT}),
        beside_heavy=True, dilutable=True),
    Job("rehearse_rejects_an_alert_that_never_fires", rehearse_rejects_an_alert_that_never_fires, cost_s=110,
        beside_heavy=True),
    Job("rehearse_rejects_a_mitigation_that_does_not_restore", rehearse_rejects_a_mitigation_that_does_not_restore,
        cost_s=170, beside_heavy=True),
    Job("rehearse_rejects_a_stop_that_leaves_state_behind", rehearse_rejects_a_stop_that_leaves_state_behind,
        cost_s=30),
    Job("delayed_fault_starts_later_and_stop_cancels_it", delayed_fault_starts_later_and_stop_cancels_it, cost_s=40),
    Job("the_clean_stop_check_names_what_was_left_behind", the_clean_stop_check_names_what_was_left_behind,
        cost_s=20),
]
