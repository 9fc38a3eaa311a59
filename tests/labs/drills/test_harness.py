"""The end-to-end drill harness' own rules, checked in a second instead of discovered after seven minutes:
every drill's mitigation can be played, the plans name real drills, the CPU gate runs heavy jobs alone, and the
alert timings come from the rules."""

from __future__ import annotations

import contextlib
import io
import threading
import time
from pathlib import Path

import pytest

from aiops_core.polling import wait_until
from labs.drills import catalogue, rehearse
from tests.labs.drills.jobs import pool_logger
from tests.labs.drills.plan import Plan
from tests.labs.drills.plans import PLANS
from tests.labs.drills.pool import MAX_BESIDE_HEAVY, CpuGate, Job, LabSpec, Pool
from tests.labs.drills.timing import alert_timings, retrain_window_s

DRILLS = sorted(catalogue.catalogue())


def test_every_plan_names_a_drill_of_the_catalogue() -> None:
    assert set(PLANS) <= set(DRILLS), sorted(set(PLANS) - set(DRILLS))


@pytest.mark.parametrize("drill_id", DRILLS)
def test_every_mitigation_step_is_a_command_or_has_manual_steps(drill_id: str) -> None:
    drill = catalogue.get(drill_id)
    kinds = [kind for kind, _ in rehearse.mitigation_lines(drill)]
    assert "cli" in kinds or "shell" in kinds or PLANS.get(drill_id, Plan()).manual_steps, kinds
    if "manual" in kinds:
        assert PLANS.get(drill_id) is not None and PLANS[drill_id].manual_steps is not None, (
            f"{drill_id}: a mitigation line is an instruction; give it Plan(manual_steps=...)")


def test_retrain_windows_come_from_the_mitigation() -> None:
    windows = {d: retrain_window_s(catalogue.get(d)) for d in DRILLS}
    for drill_id, window in windows.items():
        retrains = any("model retrain" in line for line in catalogue.get(drill_id).debrief.mitigation)
        assert (window > 0) == retrains, drill_id


def test_alert_timings_follow_recording_rules_into_their_windows() -> None:
    timings = alert_timings()
    burn = timings["ModelServiceErrorBudgetBurn"]
    # The page pair reads a 1h burn rate (a recording rule) -> 5 minutes in lab mode; for: 2m -> 10 s.
    assert burn.for_s == 10 and burn.lookback_s == 300
    assert timings["ModelServiceDown"].lookback_s == 0


def test_a_heavy_job_runs_alone_and_before_normal_jobs_that_queue_behind_it() -> None:
    gate = CpuGate()
    order: list[str] = []
    first_in, release, later_started = threading.Event(), threading.Event(), threading.Event()

    def normal(name: str, entered: threading.Event | None = None) -> None:
        if entered is None:
            later_started.set()  # a writer is already waiting: this reader must queue behind it
        with gate.shared():
            if entered is not None:
                entered.set()
                release.wait(10)  # hold the gate until the heavy job and the later one queue up
            order.append(name)

    def heavy() -> None:
        with gate.exclusive():
            order.append("heavy")

    running = threading.Thread(target=normal, args=("running normal", first_in))
    running.start()
    assert first_in.wait(5)
    threads = [threading.Thread(target=heavy)]
    threads[0].start()
    wait_until(lambda: gate.heavy_waiting, timeout=5, interval=0.01, what="the heavy job to queue behind the first")
    threads.append(threading.Thread(target=normal, args=("later normal",)))
    threads[1].start()
    assert later_started.wait(5)
    release.set()
    for t in [running, *threads]:
        t.join(10)
    assert order == ["running normal", "heavy", "later normal"]


class _Lab:
    def __init__(self, name: str) -> None:
        self.name, self.traffic_stopped_at, self.state = name, None, Path(f"/nowhere/{name}")
        self.flooded_until = 0.0
        self.history: list[str] = []


def _scheduled(jobs: list[Job], labs: int) -> tuple[Pool, list[_Lab]]:
    pool = Pool([LabSpec(f"lab{i}", Path(f"/nowhere/{i}"), {}) for i in range(labs)], jobs,
                reset=lambda lab: None, log=lambda line: None)
    pool._alive = pool._up = {f"lab{i}" for i in range(labs)}
    return pool, [_Lab(f"lab{i}") for i in range(labs)]


def _claim(pool: Pool, lab: _Lab) -> str | None:
    job, _ = pool._claim(lab, set())  # type: ignore[arg-type]
    return None if job is None else job.name


def test_only_jobs_that_mostly_wait_run_beside_a_heavy_job_and_only_a_few() -> None:
    """The heavy jobs (a surge, a capacity run) hold the CPU for ~3 minutes: the other labs take jobs marked
    ``beside_heavy``, at most ``MAX_BESIDE_HEAVY`` at once; every other job waits until no heavy one is left."""
    waiting = [Job(f"waits{i}", lambda lab: None, cost_s=100 + i, beside_heavy=True)
               for i in range(MAX_BESIDE_HEAVY + 1)]
    jobs = [Job("surge", lambda lab: None, heavy=True), Job("normal", lambda lab: None, cost_s=500), *waiting]
    pool, labs = _scheduled(jobs, MAX_BESIDE_HEAVY + 3)
    pool._up = {"lab1"}
    assert _claim(pool, labs[1]) is None, "nothing beside a heavy job before it starts (it needs every lab up)"
    pool._up = set(pool._alive)
    assert _claim(pool, labs[0]) == "surge"  # first, though the normal job is longer
    beside = [_claim(pool, lab) for lab in labs[1:MAX_BESIDE_HEAVY + 1]]
    assert sorted(beside) == sorted(j.name for j in waiting[1:])  # longest first
    assert _claim(pool, labs[-1]) is None, "a normal job or a fourth waiting job must not start beside the surge"
    pool._finish(labs[1], pool.jobs[beside[0]])  # type: ignore[arg-type,index]
    assert _claim(pool, labs[1]) == "waits0"  # a slot beside the heavy job came free
    assert _claim(pool, labs[-1]) is None
    pool._finish(labs[0], pool.jobs["surge"])  # type: ignore[arg-type]
    assert _claim(pool, labs[-1]) == "normal"


def test_a_job_beside_a_heavy_one_leaves_enough_fresh_labs_for_the_quiet_lab_jobs() -> None:
    """A rehearsal's traffic would make its lab unfit for a job that retrains on the last minutes (measured:
    three rehearsals on fresh labs left latency-regression waiting 300 s for a quiet lab). A job that only
    borrows a directory (``uses_lab=False``) keeps its lab fresh and may take any."""
    jobs = [Job("surge", lambda lab: None, heavy=True),
            *[Job(f"quiet{i}", lambda lab: None, quiet_window_s=300) for i in range(2)],
            *[Job(f"rehearsal{i}", lambda lab: None, cost_s=200 - i, beside_heavy=True) for i in range(2)],
            Job("own processes", lambda lab: None, cost_s=10, beside_heavy=True, uses_lab=False)]
    pool, labs = _scheduled(jobs, 4)
    pool.labs = {lab.name: lab for lab in labs}  # type: ignore[misc]
    assert _claim(pool, labs[0]) == "surge"
    assert _claim(pool, labs[1]) == "rehearsal0"  # lab2 and lab3 stay fresh for quiet0 and quiet1
    assert _claim(pool, labs[2]) == "own processes"  # a second rehearsal would leave one fresh lab for two
    assert _claim(pool, labs[3]) is None
    labs[1].traffic_stopped_at = 1.0
    pool._finish(labs[1], pool.jobs["rehearsal0"])  # type: ignore[arg-type]
    assert _claim(pool, labs[1]) == "rehearsal1"  # its own lab has had traffic already
    pool._finish(labs[0], pool.jobs["surge"])  # type: ignore[arg-type]
    labs[0].traffic_stopped_at = 1.0
    pool._finish(labs[2], pool.jobs["own processes"])  # type: ignore[arg-type]
    assert {_claim(pool, labs[2]), _claim(pool, labs[3])} == {"quiet0", "quiet1"}


def test_heavy_jobs_run_one_after_the_other_on_the_lab_that_already_had_traffic() -> None:
    """A second heavy job claimed while the first runs would only keep its lab waiting at the gate; after the
    first, a fresh lab is kept for the job that needs a quiet one."""
    jobs = [Job("surge", lambda lab: None, heavy=True, cost_s=100), Job("capacity", lambda lab: None, heavy=True),
            Job("quiet", lambda lab: None, quiet_window_s=300), Job("waits", lambda lab: None, beside_heavy=True)]
    pool, labs = _scheduled(jobs, 3)
    pool.labs = {lab.name: lab for lab in labs}  # type: ignore[misc]
    assert _claim(pool, labs[0]) == "surge"
    assert _claim(pool, labs[1]) == "waits"  # not capacity: the surge holds the CPU
    assert _claim(pool, labs[2]) is None
    labs[0].traffic_stopped_at = 1.0
    pool._finish(labs[0], pool.jobs["surge"])  # type: ignore[arg-type]
    assert _claim(pool, labs[2]) is None, "lab2 is the only fresh lab left: the quiet job needs it"
    assert _claim(pool, labs[0]) == "capacity"


def test_after_a_heavy_job_its_lab_prefers_a_job_whose_page_its_traffic_cannot_dilute() -> None:
    """A capacity run's ~30,000 requests stay in the ratio pages' 5-minute window: a team's error-burst paged
    after 2m53s on that lab instead of ~30 s. Until ``flood_s`` has passed, the lab takes another job first."""
    ran: list[str] = []
    jobs = [Job("capacity", lambda lab: ran.append("capacity"), heavy=True),
            Job("error-burst", lambda lab: None, cost_s=200, dilutable=True),
            Job("memory-leak", lambda lab: None, cost_s=100)]
    pool, labs = _scheduled(jobs, 2)
    pool.flood_s = 300.0
    pool._run(labs[0], pool.jobs["capacity"])  # type: ignore[arg-type]
    pool._finish(labs[0], pool.jobs["capacity"])  # type: ignore[arg-type]
    pool.queue.remove(pool.jobs["capacity"])
    assert ran == ["capacity"] and labs[0].flooded_until > time.time() + 290  # type: ignore[attr-defined]
    assert _claim(pool, labs[0]) == "memory-leak"  # though error-burst is longer
    assert _claim(pool, labs[1]) == "error-burst"
    pool._finish(labs[0], pool.jobs["memory-leak"])  # type: ignore[arg-type]
    burst = Job("another burst", lambda lab: None, dilutable=True)
    pool.jobs[burst.name] = burst
    pool.queue.append(burst)
    assert _claim(pool, labs[0]) == "another burst", "a flooded lab still takes a diluted job rather than idle"


def test_a_job_beside_a_heavy_one_does_not_hold_the_heavy_job_at_the_gate() -> None:
    """A beside-heavy job takes no part in the CPU gate; a normal job's shared hold would make the heavy job
    wait for it (minutes)."""
    ran: list[str] = []
    release = threading.Event()

    def waits(lab: object) -> None:
        ran.append("waits started")
        assert release.wait(10)

    def surge(lab: object) -> None:
        ran.append("surge")

    jobs = [Job("surge", surge, heavy=True), Job("waits", waits, beside_heavy=True)]
    pool, labs = _scheduled(jobs, 2)
    beside = threading.Thread(target=pool._run, args=(labs[1], pool.jobs["waits"]))
    beside.start()
    wait_until(lambda: ran == ["waits started"], timeout=5, interval=0.01, what="the waiting job to start")
    heavy = threading.Thread(target=pool._run, args=(labs[0], pool.jobs["surge"]))
    heavy.start()
    heavy.join(5)
    assert not heavy.is_alive() and ran == ["waits started", "surge"]
    release.set()
    beside.join(5)
    assert pool.jobs["waits"].future.result(1) is None



def test_a_workers_progress_line_never_lands_in_a_foreground_tests_stdout(tmp_path: Path) -> None:
    """A foreground test running the CLI in process has ``sys.stdout`` swapped for its own buffer; a pool
    worker's line written meanwhile went into that buffer and broke the test's ``--json`` parse."""
    journal = tmp_path / "drill-pool.log"
    log = pool_logger(journal, echo=False)
    foreground = io.StringIO()
    with contextlib.redirect_stdout(foreground):
        worker = threading.Thread(target=log, args=("[drills] lab0 error-burst: ok in 90s",))
        worker.start()
        worker.join()
    assert foreground.getvalue() == ""
    assert journal.read_text().rstrip().endswith("[drills] lab0 error-burst: ok in 90s")


def test_only_page_severity_alerts_hold_a_lab_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The burn-rate rules share one alert name across severities; the slowest window's ticket stays firing
    ~30 min after a short error burst. ``drill start`` only refuses over a page (labs/drills/preflight.py), so
    the pool waits for pages only: waiting for the ticket timed a rehearsal out after 917 s."""
    from tests.labs.drills.lab import Lab

    lab = Lab.__new__(Lab)
    held = [{"labels": {"alertname": "ModelServiceErrorBudgetBurn", "severity": "ticket"}, "state": "firing"},
            {"labels": {"alertname": "ModelServiceLatencyBudgetBurn", "severity": "page"}, "state": "pending"},
            {"labels": {"alertname": "Watchdog", "severity": "none"}, "state": "firing"}]
    monkeypatch.setattr(lab, "alerts", lambda: held)
    assert lab.page_alert_names() == {"ModelServiceLatencyBudgetBurn"}
