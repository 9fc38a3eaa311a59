"""Shared fixtures: isolation from other labs, optional CPU hogs, a trained model registry and the real
model service on a free port."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The pool's jobs assert in worker threads; rewritten, their asserts say what differed. Registered here, before
# any test module imports them (tests/compose imports the pool before tests/labs/drills is collected).
pytest.register_assert_rewrite("tests.labs.drills", "tests.compose.published_ports", "tests.labs.stack.alert_path",
                              "tests.labs.stack.round_trip", "tests.labs.curriculum.capacity_job",
                              "tests.labs.cli.monitoring_render_job", "tests.labs.gameday.team_job",
                              "tests.labs.pager.outages", "tests.grafana.dashboards_job",
                              "tests.compose.podman_scenario")

from model_service import training  # noqa: E402
from model_service.registry import Registry  # noqa: E402
from tests.labs.drills import priority  # noqa: E402
from tests.support import cpu_hogs  # noqa: E402
from tests.support.browser import Browser, chromium  # noqa: E402
from tests.support.isolation import Tripwire, closed_ports, freeze_session_environment, mark_session  # noqa: E402
from tests.support.processes import ServiceUnderTest, start_service  # noqa: E402

_tripwire: Tripwire | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cpu-hogs", type=int, default=int(os.environ.get("AIOPS_TEST_CPU_HOGS", "0")),
                     help="run N busy processes beside the suite (a loaded laptop); also AIOPS_TEST_CPU_HOGS")
    parser.addoption("--no-tripwire", action="store_true",
                     help="do not listen on the lab's default ports to catch tests that reach them")


@pytest.fixture(autouse=True, scope="session")
def _isolated_from_other_labs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The test process points every component at a port the suite owns (refusing connections) and at a
    state dir of its own, so code under test can never fall back to a lab on the default ports."""
    ports, held = closed_ports()
    saved = {k: v for k, v in os.environ.items() if k.startswith("AIOPS_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(ports)
    os.environ["AIOPS_STATE_DIR"] = str(tmp_path_factory.mktemp("default-state"))
    freeze_session_environment()  # what labs and pool jobs start from, whatever a test sets later
    try:
        yield
    finally:
        for key in [k for k in os.environ if k.startswith("AIOPS_")]:
            del os.environ[key]
        os.environ.update(saved)
        for sock in held:
            sock.close()


def _reports_a_pool_job(item: pytest.Item) -> bool:
    return item.get_closest_marker("pool") is not None


def _pool_jobs(items: list[pytest.Item]) -> set[str]:
    """The pool jobs the selected tests report (``@pytest.mark.pool("job name")``)."""
    return {str(name) for item in items for mark in item.iter_markers("pool") for name in mark.args}


# Fixtures that start a process: a test using one starts processes even where its module is not marked.
PROCESS_FIXTURES = frozenset({"service", "shared_service", "browser"})


def _runs_containers(item: pytest.Item) -> bool:
    return item.get_closest_marker("containers") is not None


# Read once, when the session starts: ``_isolated_from_other_labs`` removes every AIOPS_* variable from the
# environment before the session fixtures that ask (the stack then never started in the background).
_CONTAINERS_OFF = os.environ.get("AIOPS_CONTAINER_TESTS") == "0"


def _containers_opted_in(config: pytest.Config) -> bool:
    """The compose stack on Podman runs with the suite (issue 15: CI runs it) unless ``AIOPS_CONTAINER_TESTS=0``
    or ``-m "not containers"``; where Podman cannot be installed (not root, no apt-get) its tests skip and
    say why. It builds and starts in the background from the session's start (tests/compose/container_stack.py);
    docs/compose.md has what it costs."""
    markexpr = config.getoption("markexpr") or ""
    return not _CONTAINERS_OFF and "not containers" not in markexpr


# CPU-bound tests that time nothing but suffer most beside the drill pool's start-up (measured: the benchmark
# smoke runs took 393 s at the start of a loaded session against ~25 s on a quiet machine; they are pool jobs
# now, tests/benchmarks/smoke_jobs.py): they run after every other test and before the containers and pool
# tests, when the pool has mostly finished.
LATE = ("tests/aiops_core/test_api_docs.py",)


def _starts_processes(item: pytest.Item) -> bool:
    return (item.get_closest_marker("integration") is not None
            or not PROCESS_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The pool's tests go last: the pool starts with the session and plays while the rest runs.

    (Measured twice: moving unit tests to the front, to fill the heavy job's pause, made the run slower --
    13.3 min against 11 -- because the process tests then all met the pool at its busiest; so did running unit
    modules whenever a heavy job held the CPU gate, session 5.)"""
    pooled = [i for i in items if _reports_a_pool_job(i)]
    # The containers tests wait for the compose stack the session started in the background
    # (tests/compose/container_stack.py): they go after everything else but before the pool's, in file order.
    on_engine = [i for i in items if _runs_containers(i) and not _reports_a_pool_job(i)]
    for item in pooled + on_engine:
        # The first of them may wait for most of the pool: its own deadline (``DrillPool.outcome``, stretched
        # with the machine's load and capped) bounds the wait, not pytest-timeout's per-test 300 s. The
        # containers tests likewise wait on ``container_stack.UP_DEADLINE_S`` and their own step deadlines.
        item.add_marker(pytest.mark.timeout(0))
    if on_engine and not _containers_opted_in(config):
        skip = pytest.mark.skip(reason="the compose stack run is switched off (AIOPS_CONTAINER_TESTS=0)")
        for item in on_engine:
            item.add_marker(skip)
    late = [i for i in items if i.nodeid.startswith(LATE) and i not in pooled and i not in on_engine]
    if pooled or on_engine or late:
        rest = [i for i in items if not _reports_a_pool_job(i) and not _runs_containers(i) and i not in late]
        items[:] = rest + late + on_engine + pooled


def _background_pool() -> object | None:
    jobs = sys.modules.get("tests.labs.drills.jobs")
    return getattr(jobs, "BACKGROUND", None)


@pytest.fixture(autouse=True, scope="session")
def _drill_pool_in_background(request: pytest.FixtureRequest) -> Iterator[None]:
    """Most of a drill is waiting for an alert's ``for:`` or a check's hold window: the pool's labs play the
    drills in the background from the first test on, and the other tests run meanwhile. Not under xdist
    (every worker would start a pool); there the drill tests start it when they run."""
    wanted = _pool_jobs(request.session.items)
    if wanted and not hasattr(request.config, "workerinput"):
        from tests.labs.drills import jobs

        jobs.BACKGROUND = jobs.start_pool(request.getfixturevalue("tmp_path_factory"),
                                          request.getfixturevalue("trained_registry"), wanted,
                                          echo=request.config.getoption("capture") == "no")
    try:
        yield
    finally:
        pool = _background_pool()
        if pool is not None:
            from tests.labs.drills import jobs

            jobs.finish_pool(pool)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _container_stack_in_background(request: pytest.FixtureRequest, _isolated_from_other_labs: None,
                                   _drill_pool_in_background: None) -> Iterator[None]:
    """Building the images and ``docker compose up --wait`` take minutes, mostly downloads and unpacking: the
    ``containers`` tests' stack starts with the session and comes up while the rest runs; it is taken down
    (``docker compose down -v``) at the end whatever happened."""
    if not _containers_opted_in(request.config) or not any(_runs_containers(i) for i in request.session.items):
        yield
        return
    from tests.compose import container_stack

    container_stack.start()
    try:
        yield
    finally:
        container_stack.finish()


@pytest.fixture(scope="session")
def drill_pool(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               trained_registry: Path) -> object:
    """The pool of private labs (``tests/labs/drills/pool.py``): the one the session started in the
    background, or (under xdist) one started by the first test that needs it, for the selected jobs."""
    from tests.labs.drills import jobs

    if jobs.BACKGROUND is None:
        jobs.BACKGROUND = jobs.start_pool(tmp_path_factory, trained_registry, _pool_jobs(request.session.items),
                                          echo=request.config.getoption("capture") == "no")
    return jobs.BACKGROUND


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """While the pool plays, every test that starts processes shares the machine's CPU with it through the
    pool's gate: a heavy drill (a traffic surge that must saturate a core) runs with those tests paused, unless
    its lab can be given a higher priority."""
    pool = _background_pool()
    if pool is None or _reports_a_pool_job(item) or not _starts_processes(item) or priority.can_boost():
        # A unit test uses one core at most and starts nothing: it may run beside a heavy job. As root, the
        # heavy job's lab runs at a higher priority instead (tests/labs/drills/priority.py): nothing pauses.
        yield
        return
    with pool.pool.gate.shared():  # type: ignore[attr-defined]
        yield


@pytest.fixture(autouse=True, scope="session")
def _cpu_hogs(request: pytest.FixtureRequest) -> Iterator[None]:
    hogs = cpu_hogs.start(request.config.getoption("--cpu-hogs"))
    try:
        yield
    finally:
        cpu_hogs.stop(hogs)


@pytest.fixture(scope="session")
def trained_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models dir with v1 (good, active) and v2 (bad candidate: shuffled labels). Copy before mutating."""
    root = tmp_path_factory.mktemp("registry") / "models"
    reg = Registry(root)
    reg.activate(reg.register(training.train(rows=5000, seed=7)), actor="test")
    reg.register(training.train(rows=5000, seed=7, corruption="labels-shuffled"))
    return root


@pytest.fixture
def lab_state(tmp_path: Path, trained_registry: Path) -> Path:
    """A fresh state dir holding a private copy of the trained registry."""
    state = tmp_path / "state"
    shutil.copytree(trained_registry, state / "models")
    return state


@pytest.fixture
def service(lab_state: Path) -> Iterator[ServiceUnderTest]:
    """The real model service (uvicorn, free loopback port), stopped with SIGTERM afterwards."""
    svc = start_service(lab_state)
    try:
        yield svc
    finally:
        svc.process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless system Chromium (tests/support/browser.py), one per module; skips when it is not installed."""
    with chromium() as chrome:
        yield chrome


# Binaries CI installs (.ci/run): without them the alerting and browser tests would skip, not fail.
REQUIRED_IN_CI = {"prometheus": "prometheus", "promtool": "prometheus", "prometheus-alertmanager":
                  "prometheus-alertmanager", "amtool": "prometheus-alertmanager", "chromium": "chromium",
                  "chromedriver": "chromium-driver"}


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI, a missing monitoring or browser binary must fail the run, not turn its tests into skips. Then the
    tripwire goes up on the default ports (``tests/support/isolation.py``)."""
    global _tripwire
    mark_session()
    if not session.config.getoption("--no-tripwire") and not hasattr(session.config, "workerinput"):
        _tripwire = Tripwire().start()
    if os.environ.get("CI"):
        missing = [b for b in REQUIRED_IN_CI if shutil.which(b) is None]
        if missing:
            packages = " ".join(sorted({REQUIRED_IN_CI[b] for b in missing}))
            pytest.exit(f"CI needs {', '.join(missing)}: apt-get install -y {packages}", returncode=4)


@pytest.fixture(autouse=True, scope="session")
def _wide_cli_console() -> None:
    """In-process CLI tests read rich tables: give the shared consoles one wide, fixed width.

    rich freezes a console's width when it is created (from COLUMNS, else 80), so a test setting COLUMNS later
    has no effect; subprocess-based tests pass COLUMNS in their environment instead.
    """
    from labs.cli import output

    output.console.width = 250
    output.err_console.width = 250


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Any connection to a lab's default port fails the run: a test reached a lab it did not start."""
    if _tripwire is None:
        return
    _tripwire.stop()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if _tripwire.ignored and reporter is not None:
        reporter.section("isolation: connections from outside this session (ignored)")
        for line in _tripwire.ignored:
            reporter.write_line(line)
    if _tripwire.hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        lines = ["a test reached a default lab port it did not choose:", *_tripwire.hits]
        if reporter is not None:
            reporter.section("isolation", red=True)
            for line in lines:
                reporter.write_line(line, red=True)
        else:
            print("\n".join(lines))


def pytest_report_header(config: pytest.Config) -> str:
    hogs = config.getoption("--cpu-hogs")
    return f"aiops-lab: {hogs} CPU hog(s) beside the suite; default-port tripwire " + (
        "off" if config.getoption("--no-tripwire") else "on")
