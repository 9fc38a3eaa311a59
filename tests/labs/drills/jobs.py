"""The jobs the drill pool plays on its private labs, and the pool's start and finish.

Every drill of the catalogue is a job (the generic scenario is in ``scenario.py``; ``plans.py`` adds what a
catalogue entry cannot say). Besides the drills: a wrong mitigation leaves the check failing (a restart
during bad-model-deploy and dependency-slow), a CLI killed mid-start is cleaned up by ``drill stop``, best
scores show in ``drill list``, CLI errors, every PromQL and curl of the drill guides, and ``drill stop``
after ``aiops-lab down``. The tests that report each job's outcome are in ``test_drills_e2e.py``; the pool
starts with the test session (``tests/conftest.py``) so the other tests run while its labs wait for alerts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aiops_core import http as lab_http
from aiops_core.paths import REPO_ROOT
from aiops_core.polling import wait_until
from labs.drills import catalogue
from labs.drills.fault_types import ConfigFlagFault, TrafficSurgeFault
from labs.drills.rollback import is_traffic_process
from labs.drills.schema import Drill, PromCheck
from labs.drills.traffic import LAB_GONE_S
from model_service.runtime_config import RuntimeConfig
from tests.benchmarks.smoke_jobs import JOBS as BENCHMARK_JOBS
from tests.compose.published_ports import JOBS as COMPOSE_JOBS
from tests.grafana.dashboards_job import JOBS as DASHBOARD_JOBS
from tests.labs.cli.monitoring_render_job import JOBS as RENDER_JOBS
from tests.labs.curriculum.capacity_job import JOBS as CAPACITY_JOBS
from tests.labs.curriculum.live_job import JOBS as CURRICULUM_JOBS
from tests.labs.drills import scenario, steps, ttd
from tests.labs.drills.authoring_jobs import JOBS as AUTHORING_JOBS
from tests.labs.drills.lab import Lab, for_this_lab
from tests.labs.drills.plan import Plan
from tests.labs.drills.plans import PLANS
from tests.labs.drills.pool import Job, JobFailed, LabSpec, Pool, Skipped
from tests.labs.drills.restart_check_job import JOBS as RESTART_CHECK_JOBS
from tests.labs.drills.steps import running
from tests.labs.drills.timing import AlertTiming, alert_timings, estimated_seconds, quiet_window_s
from tests.labs.gameday.team_job import JOBS as GAMEDAY_JOBS
from tests.labs.pager.outages import JOBS as OUTAGE_JOBS
from tests.labs.stack.alert_path import JOBS as ALERT_PATH_JOBS
from tests.labs.stack.round_trip import JOBS as ROUND_TRIP_JOBS
from tests.labs.stack.squatter_job import JOBS as SQUATTER_JOBS
from tests.model_service.integration.registry_job import JOBS as REGISTRY_JOBS
from tests.monitoring.alertmanager_job import JOBS as ALERTMANAGER_JOBS
from tests.monitoring.prometheus_job import JOBS as PROMETHEUS_JOBS
from tests.support.lab import CLI, allocate_ports
from tests.support.speed import scaled

LABS = int(os.environ.get("AIOPS_DRILL_LABS", "7"))  # measured: 8 labs made the whole run slower, not faster
POOL_TIMEOUT_S = 1200  # the whole pool on an idle machine; a quiet run takes about 10 minutes
MAX_POOL_TIMEOUT_S = 3000  # however loaded the machine is
BACKGROUND: DrillPool | None = None  # the session's pool (started by tests/conftest.py or test_drills_e2e.py)
DRILLS = sorted(catalogue.catalogue())
GUIDES = sorted((REPO_ROOT / "runbooks" / "drills").glob("*.md"))
_FENCE = re.compile(r"^([ \t]*)```(\w*)\n(.*?)^\1```", re.M | re.S)
SCORED = "service-crash"  # killed_mid_start_then_best_scores runs on the lab where this drill passed



# --- jobs besides the drills -------------------------------------------------------------------------------


def cli_errors(lab: Lab) -> None:
    listed = lab.cli("drill", "list")
    assert listed.returncode == 0, listed.stderr
    for drill_id in catalogue.catalogue():
        assert drill_id in listed.stdout
    unknown = lab.cli("drill", "start", "no-such-drill")
    assert unknown.returncode == 2
    assert "unknown drill 'no-such-drill'; valid ids:" in unknown.stderr and "service-crash" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    nothing = lab.cli("drill", "check")
    assert nothing.returncode == 5 and "no drill is running" in nothing.stderr


def _unscored_drill(lab: Lab) -> str:
    """A drill with traffic that never passed on this lab, preferably one with only flag faults."""
    candidates = ["memory-leak", *(d.id for d in catalogue.catalogue().values()
                                   if d.traffic is not None and all(isinstance(f, ConfigFlagFault) for f in d.faults))]
    return next(d for d in candidates if d not in lab.passed)


def killed_mid_start_then_best_scores(lab: Lab) -> None:
    drill = catalogue.get(_unscored_drill(lab))
    # --force: its page is not what this tests, and an earlier drill's alert may still be firing (waiting for
    # it to clear once took 250 s, as the pool's very last job)
    proc = subprocess.Popen([*CLI, "drill", "start", drill.id, "--no-wait", "--force"], env=lab.env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    lab.ran.append(drill.id)
    journal = wait_until(lambda: (j := lab.journal()) and j.get("traffic_pid") and j, timeout=30,
                         what="the journal to record the traffic before the fault")
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI crashes during the warm-up (or right after injecting)
    proc.wait(10)
    traffic = journal["traffic_pid"]
    assert running(traffic)
    stopped = lab.cli("drill", "stop")
    lab.traffic_stopped_at = time.time()
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    wait_until(lambda: not running(traffic), timeout=10, what="the orphaned traffic process to be stopped")
    assert lab.flags() == RuntimeConfig().model_dump()
    assert lab.journal() is None
    assert drill.id in (lab.state / "drills" / "results.jsonl").read_text()
    # Best scores: the drill that passed on this lab has one, the run that was only stopped has none.
    listed = lab.cli("drill", "list")
    rows = {cells[1]: cells for line in listed.stdout.splitlines()
            if len(cells := [c.strip() for c in line.split("│")]) > 5}
    assert SCORED in lab.passed, f"{SCORED} did not pass on {lab.name}, so it has no best score to show"
    assert rows[SCORED][5].isdigit(), rows[SCORED]
    assert rows[drill.id][5] == "-", f"a stopped run has no score: {rows[drill.id]}"


def _guide_blocks(tag: str) -> list[tuple[str, str]]:
    return [(guide.name, textwrap.dedent(body).strip()) for guide in GUIDES
            for _, lang, body in _FENCE.findall(guide.read_text()) if lang == tag]


def guide_commands(lab: Lab) -> None:
    queries = _guide_blocks("promql")
    queries += [(f"catalogue {d.id}", c.query) for d in catalogue.catalogue().values() for c in d.checks
                if isinstance(c, PromCheck)]
    curls = [(name, line.strip()) for name, body in _guide_blocks("bash") for line in body.splitlines()
             if line.strip().startswith("curl ")]
    assert len(queries) >= 40 and len(curls) >= 15
    errors = []
    prom = lab.url("prometheus")
    for name, query in queries:
        resp = lab_http.post(prom + "/api/v1/query", data={"query": query}, timeout=10)
        if resp.status_code != 200 or resp.json().get("status") != "success":
            errors.append(f"{name}: {query!r}: {resp.text[:200]}")
    for name, line in curls:
        command = for_this_lab(lab, line)
        assert "127.0.0.1:8000" not in command and "127.0.0.1:9090" not in command, command
        # In the lab's environment: the guides ask ``aiops-lab url`` where this lab's components listen.
        done = steps.run_shell(lab, line)
        if done.returncode != 0:
            errors.append(f"{name}: {line} -> exit {done.returncode}: {done.stderr[:200]}")
    assert not errors, "\n".join(errors)


def stop_after_down(lab: Lab) -> None:
    """The last job of its lab: it stops the lab. A drill outlives ``aiops-lab down``; ``drill stop`` still
    restores the flags (on disk, where the service reads them at its next start) and the model pointer. Its
    traffic does not outlive the lab: left running, it sent requests to whatever took the port next."""
    drill = catalogue.get("memory-leak")
    # --force: its page is not what this tests, and an earlier drill's alert may still be firing (waiting for
    # it to clear took 150-160 s, as the pool's very last job)
    started = lab.cli("drill", "start", drill.id, "--no-wait", "--force")
    assert started.returncode == 0, started.stdout + started.stderr
    lab.ran.append(drill.id)
    flag = next(f for f in drill.faults if isinstance(f, ConfigFlagFault))
    assert lab.flags()[flag.flag] == flag.value
    traffic_pid = (lab.journal() or {}).get("traffic_pid")
    assert traffic_pid and is_traffic_process(traffic_pid), f"no traffic process for {drill.id}: {lab.journal()}"
    assert lab.cli("down").returncode == 0
    wait_until(lambda: not is_traffic_process(traffic_pid), timeout=LAB_GONE_S + scaled(30),
               what=f"the drill's traffic (pid {traffic_pid}) to stop after aiops-lab down")
    stopped = lab.cli("drill", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    on_disk = json.loads((lab.state / "runtime_config.json").read_text())
    assert on_disk[flag.flag] == RuntimeConfig().model_dump()[flag.flag]
    assert json.loads((lab.state / "models" / "active.json").read_text())["version"] == "v1"
    assert lab.journal() is None


# --- the pool ----------------------------------------------------------------------------------------------


def _heavy(drill: Drill) -> bool:
    """A surge of traffic or a CPU burn saturates a core of the machine."""
    return any(isinstance(f, TrafficSurgeFault) or (isinstance(f, ConfigFlagFault) and f.flag == "cpu_burn_ms")
               for f in drill.faults)


# Pages computed over all of a lab's recent requests (or labels): another job's traffic in their window
# dilutes them, a heavy job's thousands of requests most (pool.py, "flooded").
RATIO_PAGES = frozenset({"ModelServiceErrorBudgetBurn", "ModelServiceLatencyBudgetBurn", "ModelQualityDegraded"})


def flood_seconds(timings: dict[str, AlertTiming]) -> float:
    """How long a heavy job's traffic dilutes the ratio pages: their longest lookback."""
    return max(timings[a].lookback_s for a in RATIO_PAGES if a in timings)


def drill_job(drill_id: str, timings: dict[str, AlertTiming]) -> Job:
    drill = catalogue.get(drill_id)
    plan = PLANS.get(drill_id, Plan())
    return Job(drill_id, lambda lab: scenario.play(lab, drill_id, plan),
               cost_s=estimated_seconds(drill, plan, timings), heavy=_heavy(drill),
               quiet_window_s=quiet_window_s(drill, plan, timings),
               avoid_alerts=frozenset(drill.expected_alerts),
               dilutable=bool(drill.expected_alerts) and set(drill.expected_alerts) <= RATIO_PAGES)


def all_jobs() -> list[Job]:
    timings = alert_timings()
    jobs = [drill_job(d, timings) for d in DRILLS]
    jobs += [Job("cli_errors", cli_errors, cost_s=10),
             Job("guide_commands", guide_commands, cost_s=40),
             Job("killed_mid_start_then_best_scores", killed_mid_start_then_best_scores, cost_s=30, follows=SCORED),
             Job("stop_after_down", stop_after_down, cost_s=35, last=True)]
    # Jobs of other test directories that need a whole lab: they play on the pool's labs too.
    return (jobs + AUTHORING_JOBS + RENDER_JOBS + COMPOSE_JOBS + ALERT_PATH_JOBS + ROUND_TRIP_JOBS + CAPACITY_JOBS
            + OUTAGE_JOBS + GAMEDAY_JOBS + RESTART_CHECK_JOBS + DASHBOARD_JOBS + PROMETHEUS_JOBS + ALERTMANAGER_JOBS
            + REGISTRY_JOBS + SQUATTER_JOBS + CURRICULUM_JOBS + BENCHMARK_JOBS)


class DrillPool:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        # A loaded machine gets more time, within CI's budget.
        self.budget_s = min(scaled(POOL_TIMEOUT_S), MAX_POOL_TIMEOUT_S)
        self.deadline = time.monotonic() + self.budget_s

    def outcome(self, name: str) -> object:
        try:
            return self.pool.result(name, timeout=max(1.0, self.deadline - time.monotonic()))
        except JobFailed as exc:
            pytest.fail(str(exc), pytrace=False)
        except Skipped as exc:
            pytest.skip(str(exc))
        except TimeoutError:
            pytest.fail(f"{name} did not finish within the pool's {self.budget_s:.0f}s", pytrace=False)


def pool_logger(journal: Path, echo: bool) -> Callable[[str], None]:
    """The pool's progress lines go to ``journal`` and, with ``echo`` (pytest ``-s``), to the real stdout.

    Never to ``sys.stdout`` as it is when a line is written: a foreground test running the CLI in process
    (click's ``CliRunner``) has swapped it for its own buffer, and a worker's line landed inside that test's
    ``--json`` output (``test_report_json_is_the_summary_for_scripts`` failed so)."""
    console = sys.__stdout__ if echo else None
    lock = threading.Lock()

    def log(line: str) -> None:
        with lock:
            if console is not None:
                console.write(line + "\n")
                console.flush()
            with journal.open("a") as out:
                out.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    return log


def start_pool(tmp_path_factory: pytest.TempPathFactory, trained_registry: Path, wanted: set[str] | None = None,
               echo: bool = False) -> DrillPool:
    """Start the workers for the ``wanted`` jobs (and the jobs they follow); all jobs when None. Returns at
    once. A selection of a few tests starts only as many labs as it has jobs to share out. The schedule is
    written to ``<basetemp>/drill-pool.log`` (and echoed with ``echo``)."""
    jobs = all_jobs()
    if wanted is not None:
        unknown = wanted - {j.name for j in jobs}
        assert not unknown, f"no pool job named {sorted(unknown)}"
        needed = wanted | {j.follows for j in jobs if j.name in wanted and j.follows}
        jobs = [j for j in jobs if j.name in needed]
    specs = []
    for i, ports in enumerate(allocate_ports(max(1, min(LABS, sum(1 for j in jobs if j.follows is None))))):
        state = tmp_path_factory.mktemp(f"drill-lab{i}") / "state"
        shutil.copytree(trained_registry, state / "models")
        specs.append(LabSpec(f"lab{i}", state, ports, registry=trained_registry))
    journal = tmp_path_factory.getbasetemp() / "drill-pool.log"  # the schedule, readable after a CI run
    pool = Pool(specs, jobs, reset=steps.reset, log=pool_logger(journal, echo), flood_s=flood_seconds(alert_timings()))
    pool.start()
    return DrillPool(pool)


def finish_pool(drill_pool: DrillPool) -> None:
    """Wait for the workers, record the TTD table, and never leave a lab behind (after a stuck job)."""
    pool = drill_pool.pool
    pool.join(timeout=300)
    ttd.record(pool, LABS)
    for lab in pool.labs.values():
        lab.cli("down", timeout=120)
