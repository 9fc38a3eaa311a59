"""Run many drills at once: a pool of private labs, one worker thread per lab, one shared queue of jobs.

Why not one lab, drill after drill? Most of a drill is waiting -- for an alert's ``for:``, for a check's hold
window -- so the whole catalogue on one lab takes longer than the CI budget, while a few labs side by side
fit on two cores. The scheduling rules exist because labs on one machine are not independent:

* **longest first**: the queue is sorted by estimated duration, so the long drills do not end up last;
* a **heavy** job (a surge saturating a core) runs alone among the pool's labs, while the others are up but
  idle (``CpuGate``): the surge would fail their latency checks, and even their background traffic starves
  the surged service below the saturation alert's CPU threshold (measured: the page never came within 200 s
  while six other labs only waited for their pages). It goes first, once every lab is up. Where it can
  (root), its lab runs at a higher priority and the rest of the suite goes on beside it (``priority.py``);
  elsewhere the suite's other process-starting tests pause too. (Tried and measured: as root, the heavy job
  reniced *beside* the other labs' jobs instead of alone paged after 241 s instead of 53 s, the drills beside
  it took 2-4x longer in start and report, and the run was slower overall: 40 % of the tests done after
  12 min against 62 %, with a compose drill's page timing out. That trial, and every run before ``ec337df``,
  had a boost that did not work: it reniced threads, which weigh only within their own session -- see
  ``priority.py``);
* **quiet labs**: a job whose fix retrains on "the last N minutes" of traffic runs on a lab that had no
  other drill's traffic in that window (a fresh lab if one is left) -- otherwise it would train on the
  previous drill's world;
* a job marked **beside_heavy** mostly waits (an alert's window, a check's deadline, scrapes) with a trickle
  of traffic: up to ``MAX_BESIDE_HEAVY`` of them run on labs a heavy job leaves idle, outside the gate, as the
  foreground's tests do -- the labs' idle minutes during the heavy jobs were the pool's biggest hole (~185 s
  of six labs). One that sends traffic to its lab takes a fresh lab only while enough stay fresh for the
  heavy and the quiet-lab jobs;
* **follow-ups** run on the lab of the job they follow (e.g. ``drill list`` shows the best score of a drill
  that passed *there*); a **last** job runs when its lab has nothing else to do (it stops the lab);
* after a heavy job its lab is **flooded** for ``flood_s`` (the lookback of the ratio pages): a surge's or
  a capacity run's tens of thousands of requests dilute an error or latency ratio over the lab's recent
  requests (measured: a team's error-burst paged after 2m53s there instead of ~30 s), so that lab prefers
  a job that does not page on such a ratio (``dilutable``) until then;
* a lab whose next drill's alert is still firing from the previous one is passed over for a drill that
  does not need that alert, when there is one (the drill itself waits for the alert to clear otherwise).
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.labs.drills import priority
from tests.labs.drills.lab import Lab, start_lab

# Jobs beside a heavy one at most: each costs a few % of a core (a drill's background traffic, its checks, a
# Prometheus), like one foreground test; more would eat the core the heavy job's alert needs.
MAX_BESIDE_HEAVY = 3


class CpuGate:
    """A readers-writer lock on the machine's CPU: normal jobs share it, a heavy job holds it alone.

    Writers are preferred: once a heavy job waits, no normal job starts until it is done, so it is not
    starved by a stream of short jobs.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive and not self._writers_waiting)
            self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @property
    def heavy_waiting(self) -> bool:
        with self._cond:
            return self._writers_waiting > 0

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            self._cond.wait_for(lambda: not self._exclusive and not self._shared)
            self._writers_waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


@dataclass
class Job:
    name: str
    run: Callable[[Lab], Any]
    cost_s: float = 60.0
    heavy: bool = False
    quiet_window_s: float = 0.0
    follows: str | None = None
    last: bool = False
    avoid_alerts: frozenset[str] = frozenset()
    beside_heavy: bool = False  # mostly waiting: may run while a heavy job holds the CPU (module docstring)
    uses_lab: bool = True  # False: it only borrows a directory and the trained models, the lab keeps no traffic
    dilutable: bool = False  # it pages on a ratio over all of the lab's recent requests (module docstring)
    future: Future[Any] = field(default_factory=Future)
    lab: str = ""
    started: float = 0.0
    seconds: float = 0.0

    def sort_key(self) -> tuple[bool, bool, float]:
        return (not self.heavy, self.quiet_window_s <= 0, -self.cost_s)


class JobFailed(AssertionError):
    """A job failed on a worker; the message has the traceback and the lab's last CLI outputs."""


class Skipped(Exception):
    """A job that cannot apply on this machine (the reason is its message); its test is skipped."""


@dataclass
class LabSpec:
    name: str
    state: Path
    ports: dict[str, str]
    registry: Path | None = None  # the trained models the lab's state was seeded with


class Pool:
    def __init__(self, specs: list[LabSpec], jobs: list[Job], reset: Callable[[Lab], None],
                 log: Callable[[str], None], flood_s: float = 0.0) -> None:
        self.specs, self.reset, self.log, self.flood_s = specs, reset, log, flood_s
        self.jobs = {j.name: j for j in jobs}
        self.queue = sorted(jobs, key=Job.sort_key)
        self.gate = CpuGate()
        self.labs: dict[str, Lab] = {}
        self._cond = threading.Condition()
        self._running: dict[str, str] = {}  # lab name -> job name
        self._done_on: dict[str, list[str]] = {}  # lab name -> job names finished there
        self._alive: set[str] = set()
        self._up: set[str] = set()
        self._threads: list[threading.Thread] = []
        self.started_at = 0.0
        self.finished_at = 0.0

    def start(self) -> None:
        self.started_at = time.monotonic()
        self._alive = {s.name for s in self.specs}
        for spec in self.specs:
            thread = threading.Thread(target=self._worker, args=(spec,), name=f"drill-{spec.name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def result(self, name: str, timeout: float) -> Any:
        return self.jobs[name].future.result(timeout)

    # --- scheduling ---------------------------------------------------------------------------------------

    def _eligible(self, job: Job, lab: Lab) -> bool:
        if job.heavy:
            # Only once every lab is up (start-ups are CPU-heavy, and ``up`` runs outside the gate), one at a
            # time (a second one claimed now would keep its lab waiting at the gate), and not on a fresh lab
            # that a quiet-lab job needs (after the first, the lab that ran it takes the next).
            if self._up != self._alive or self._heavy_running():
                return False
            return lab.traffic_stopped_at is not None or self._fresh_to_spare(lab)
        if self._heavy_ahead():
            # A heavy job goes first: a normal job started now would hold it up for minutes. A job that mostly
            # waits may run beside it, outside the gate, a few at a time -- once it runs: one claimed while
            # the labs come up took the fresh lab the first heavy job needed (measured: the surge started 60 s
            # late, on the lab of a rehearsal that had to finish first).
            if (not job.beside_heavy or job.follows is not None or not self._heavy_running()
                    or self._beside_heavy_running() >= MAX_BESIDE_HEAVY):
                return False
            return not job.uses_lab or lab.traffic_stopped_at is not None or self._fresh_to_spare(lab)
        if job.follows is not None:
            return job.follows in self._done_on.get(lab.name, [])
        if job.last:
            return False
        if job.quiet_window_s > 0 and lab.traffic_stopped_at is not None:
            return time.time() - lab.traffic_stopped_at >= job.quiet_window_s
        return True

    def _heavy_running(self) -> bool:
        return any(self.jobs[n].heavy for n in self._running.values())

    def _heavy_ahead(self) -> bool:
        """A heavy job is queued or running."""
        return any(j.heavy for j in self.queue) or self._heavy_running()

    def _beside_heavy_running(self) -> int:
        return sum(1 for n in self._running.values() if self.jobs[n].beside_heavy)

    def _fresh_to_spare(self, lab: Lab) -> bool:
        """Whether ``lab``, still without any drill's traffic, may get some now: the labs left fresh must be
        enough for the queued jobs that need a quiet lab. (Measured: three rehearsals on fresh labs beside the
        heavy jobs left latency-regression waiting 300 s for a lab to become quiet.)"""
        busy = {name for name, job in self._running.items() if self.jobs[job].uses_lab}
        fresh = [name for name in self._alive if name != lab.name and name not in busy
                 and (name not in self.labs or self.labs[name].traffic_stopped_at is None)]
        return len(fresh) >= sum(1 for j in self.queue if j.quiet_window_s > 0)

    def _claim(self, lab: Lab, active_alerts: set[str]) -> tuple[Job | None, bool]:
        """(job, keep_going): the next job for this lab, or (None, True) to wait a little, (None, False)."""
        with self._cond:
            mine = [j for j in self.queue if j.follows is not None and self._eligible(j, lab)]
            others = [j for j in self.queue if j.follows is None and not j.last]
            ready = [j for j in others if self._eligible(j, lab)]
            clear = [j for j in ready if not (j.avoid_alerts & active_alerts)]
            undiluted = [j for j in clear if not j.dilutable] if time.time() < lab.flooded_until else []
            job = (mine or undiluted or clear or ready or [None])[0]
            if job is None and others:
                return None, True  # only quiet-window jobs left and this lab is not quiet yet
            if job is None:
                last = [j for j in self.queue if j.last]
                job = last[0] if last else None
                if job is None:
                    return None, False
            self.queue.remove(job)
            self._running[lab.name] = job.name
            return job, True

    def _finish(self, lab: Lab, job: Job) -> None:
        with self._cond:
            self._running.pop(lab.name, None)
            self._done_on.setdefault(lab.name, []).append(job.name)
            self._cond.notify_all()

    # --- the worker ---------------------------------------------------------------------------------------

    def _worker(self, spec: LabSpec) -> None:
        lab: Lab | None = None
        try:
            lab = start_lab(spec.name, spec.state, spec.ports)
            lab.seed_registry = spec.registry
            self.labs[spec.name] = lab
            with self._cond:
                self._up.add(spec.name)
            self.log(f"[drills] {spec.name} up after {time.monotonic() - self.started_at:.0f}s")
            self._serve(lab)
        except BaseException as exc:  # a lab that cannot start: the other workers take its jobs
            self.log(f"[drills] {spec.name} retired: {exc}")
        finally:
            self._retire(spec.name)
            if lab is not None:  # free the CPU for the labs still working (harmless if already down)
                with contextlib.suppress(Exception):
                    lab.cli("drill", "stop", timeout=120)
                with contextlib.suppress(Exception):
                    lab.cli("down", timeout=120)

    def _serve(self, lab: Lab) -> None:
        while True:
            try:
                alerts = lab.page_alert_names()
            except Exception:  # Prometheus busy: schedule without the alert preference
                alerts = set()
            job, keep_going = self._claim(lab, alerts)
            if job is None:
                if not keep_going:
                    return
                time.sleep(2)
                continue
            healthy = self._run(lab, job)
            self._finish(lab, job)
            if job.last:
                return
            if not healthy:
                return

    def _run(self, lab: Lab, job: Job) -> bool:
        """Run one job; on failure keep its message and reset the lab. False: the lab is not usable."""
        job.lab = lab.name
        lab.history.clear()
        # A job beside a heavy one takes no part in the gate: it would hold up the heavy job waiting to start.
        gate = (self.gate.exclusive() if job.heavy else contextlib.nullcontext() if job.beside_heavy
                else self.gate.shared())
        boost = priority.boosted(lab.state) if job.heavy and priority.can_boost() else contextlib.nullcontext()
        job.started = time.monotonic()
        try:
            with gate, boost:
                job.started = time.monotonic()  # the job's own time, not the wait for a heavy job
                try:
                    value = job.run(lab)
                finally:
                    if job.heavy:
                        lab.flooded_until = time.time() + self.flood_s
        except Skipped as exc:
            job.seconds = time.monotonic() - job.started
            job.future.set_exception(exc)
            self.log(f"[drills] {lab.name} {job.name}: skipped: {exc}")
            return True
        except BaseException as exc:
            job.seconds = time.monotonic() - job.started
            detail = "".join(traceback.format_exception(exc)).rstrip()
            message = (f"{job.name} failed on {lab.name} after {job.seconds:.0f}s "
                       f"(+{job.started - self.started_at:.0f}s into the pool):\n{detail}\n\n"
                       f"--- last CLI commands on {lab.name} ---\n{lab.recent_output()}")
            job.future.set_exception(JobFailed(message))
            self.log(f"[drills] {lab.name} {job.name}: FAILED after {job.seconds:.0f}s: "
                     f"{str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}")
            if job.last:
                return False
            try:
                self.reset(lab)
            except BaseException as reset_exc:
                self.log(f"[drills] {lab.name} could not be reset ({reset_exc}); its remaining jobs move on")
                return False
            return True
        job.seconds = time.monotonic() - job.started
        job.future.set_result(value)
        self.log(f"[drills] {lab.name} {job.name}: ok in {job.seconds:.0f}s "
                 f"(+{time.monotonic() - self.started_at:.0f}s){'' if value is None else f': {value}'}")
        return True

    def _retire(self, name: str) -> None:
        with self._cond:
            self._alive.discard(name)
            self._up.discard(name)
            orphans = [j for j in self.queue if not self._alive or
                       (j.follows is not None and j.follows in self._done_on.get(name, []))]
            for job in orphans:
                self.queue.remove(job)
                job.future.set_exception(JobFailed(
                    f"{job.name} never ran: " + ("no lab is left to run it" if not self._alive else
                                                 f"its lab {name} (which ran {job.follows}) was retired")))
            if not self._alive:
                self.finished_at = time.monotonic()
            self._cond.notify_all()
