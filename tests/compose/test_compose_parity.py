"""The compose stack is the native lab in containers: same components, ports, health checks, environment,
Prometheus/Alertmanager flags and Grafana set-up. Each test reads the native side from the code that runs
it (aiops_core/topology.py, labs/stack/plan.py build_plan, monitoring/binaries.py, labs/stack/grafana_config.py,
the services' settings classes), so a change on either side that is not mirrored on the other fails here.
"""

from __future__ import annotations

import configparser
import inspect
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from aiops_core.topology import BY_NAME, COMPONENTS, LOCUST, LOOPBACK
from labs.stack.plan import ProcessSpec, build_plan
from monitoring.render import MODES
from tests.compose import compose_file

COMPOSE = compose_file.load()
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ONE_SHOT = {"model-init", "cli"}  # `aiops-lab up` trains first itself; natively the CLI is just the CLI
COMPOSE_ONLY = {"locust": "the native lab starts Locust on demand (aiops-lab load ui); compose as a profile"}

# Environment the containers get that the native plan does not set, and why.
CONTAINER_ONLY_ENV = {
    "AIOPS_HOST": "the model service must listen on every interface inside its container",
    "AIOPS_DRIFT_HOST": "the same for the drift monitor",
    "AIOPS_PAGER_HOST": "the same for the pager",
    "AIOPS_TRAFFIC_FEED_HOST": "the same for the traffic feed",
    "AIOPS_TRAFFIC_FEED_CONTROL_TOKEN": "the host's drill engine cannot write the feed's fault file in its volume, "
                                        "so it uses the control API (natively off: the engine writes the file)",
    "AIOPS_MODELS_DIR": "the registry is its own named volume, not a subdirectory of the state volume",
    "AIOPS_DRIFT_CONFIG": "drift.yml is bind-mounted read-only from the repository",
    "AIOPS_LOAD_PROFILE": "Locust's web UI default traffic shape (natively a CLI option)",
    "AIOPS_LOAD_DATA": "Locust's web UI default data profile (natively a CLI option)",
}
# Natively the loopback defaults are right; in the compose network each component is <service>:<port>.
URL_ENV = {f"AIOPS_{c.name.upper().replace('-', '_')}_URL" for c in COMPONENTS}
# The native plan sets these explicitly; in compose the component derives them from AIOPS_LAB_MODE.
DERIVED_ENV = {"AIOPS_DRIFT_INTERVAL_S"}


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ProcessSpec]:
    with pytest.MonkeyPatch.context() as mp:
        for comp in COMPONENTS:
            mp.delenv(comp.port_env, raising=False)
        specs = build_plan(request.param, tmp_path_factory.mktemp(f"plan-{request.param}"))
    return {spec.name: spec for spec in specs}


def _python_module(spec: ProcessSpec) -> str | None:
    argv = spec.argv or []
    return argv[2] if len(argv) >= 3 and argv[1] == "-m" and "python" in Path(argv[0]).name else None


def _flags(argv: list[str]) -> dict[str, str]:
    return dict(arg.split("=", 1) if "=" in arg else (arg, "") for arg in argv if arg.startswith("--"))


def test_every_native_component_is_a_compose_service_and_nothing_else_is(plan: dict[str, ProcessSpec]) -> None:
    missing = set(plan) - set(SERVICES)
    assert not missing, f"the native lab runs {sorted(missing)}, docker-compose.yml does not"
    extra = set(SERVICES) - set(plan) - ONE_SHOT - set(COMPOSE_ONLY)
    assert not extra, f"docker-compose.yml runs {sorted(extra)}, the native lab does not"
    for name in set(SERVICES) - ONE_SHOT:
        assert name in BY_NAME, f"{name} is not a aiops_core/topology.py component (drills address components by name)"


def test_python_components_run_the_same_module(plan: dict[str, ProcessSpec]) -> None:
    for name, spec in plan.items():
        module = _python_module(spec)
        if module is None:
            continue
        assert SERVICES[name]["command"] == ["python", "-m", module], name
        assert SERVICES[name]["image"] == SERVICES["model-init"]["image"], f"{name} should run the project image"
    assert SERVICES["cli"]["entrypoint"] == ["aiops-lab"] and SERVICES["cli"]["image"] == SERVICES["model-init"][
        "image"]


def test_ports_are_the_topology_ports_moved_by_the_same_variables() -> None:
    raw = compose_file.raw()["services"]
    for name, svc in raw.items():
        if name in ONE_SHOT:
            continue
        comp = BY_NAME[name]
        (mapping,) = svc["ports"]
        m = re.fullmatch(r"\$\{AIOPS_PUBLISH_HOST:-127\.0\.0\.1\}:\$\{(\w+):-(\d+)\}:(\d+)", mapping)
        assert m, f"{name}: unexpected port mapping {mapping}"
        assert (m.group(1), int(m.group(2)), int(m.group(3))) == (comp.port_env, comp.default_port,
                                                                   comp.default_port), name
    assert LOCUST.name in raw


def test_health_checks_probe_what_the_native_supervisor_probes(plan: dict[str, ProcessSpec]) -> None:
    for name, spec in plan.items():
        test = SERVICES[name]["healthcheck"]["test"]
        url = urlparse(next(arg for arg in test if arg.startswith("http://")))
        assert url.hostname == LOOPBACK and url.port == spec.port, f"{name} probes {url.geturl()}"
        assert url.path == spec.health_path, f"{name}: compose probes {url.path}, native {spec.health_path}"


def test_python_components_get_the_native_environment(plan: dict[str, ProcessSpec]) -> None:
    for name, spec in plan.items():
        if _python_module(spec) is None:
            continue
        compose_env = SERVICES[name]["environment"]
        native = set(spec.env) - DERIVED_ENV
        assert not native - set(compose_env), f"{name}: compose lacks {sorted(native - set(compose_env))}"
        extra = set(compose_env) - set(spec.env) - set(CONTAINER_ONLY_ENV) - URL_ENV
        assert not extra, f"{name}: undocumented container-only variables {sorted(extra)}"
        for key in native:
            if key.endswith("_PORT") or key == "PYTHONUNBUFFERED":
                assert compose_env[key] == spec.env[key], f"{name}: {key}"
        assert compose_env["AIOPS_LAB_MODE"] in MODES
    url = urlparse(SERVICES["model-service"]["environment"]["AIOPS_MODEL_SERVICE_URL"])
    assert (url.hostname, url.port) == ("model-service", BY_NAME["model-service"].default_port)
    for var in URL_ENV & set(SERVICES["model-service"]["environment"]):
        url = urlparse(SERVICES["model-service"]["environment"][var])
        target = var.removeprefix("AIOPS_").removesuffix("_URL").lower().replace("_", "-")
        assert (url.hostname, url.port) == (target, BY_NAME[target].default_port), var


def test_the_default_mode_is_the_native_default() -> None:
    assert inspect.signature(build_plan).parameters["mode"].default == SERVICES["model-service"]["environment"][
        "AIOPS_LAB_MODE"]
    assert {p.name for p in (compose_file.REPO_ROOT / "monitoring" / "compose").iterdir() if p.is_dir()
            and not p.name.startswith("_")} == set(MODES)


@pytest.mark.parametrize("mode", MODES)
def test_each_python_server_binds_every_interface_on_its_port(mode: str, monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    """Start-up settings built from exactly the container's environment: the real settings classes."""
    from labs.pager.settings import PagerSettings
    from labs.traffic_feed.settings import FeedSettings
    from model_service.settings import Settings
    from monitoring.drift.settings import DriftSettings

    monkeypatch.chdir(tmp_path)  # pydantic-settings would read a .env in the working directory
    compose = compose_file.load({**compose_file.EXAMPLE_SECRETS, "AIOPS_LAB_MODE": mode})
    plan = {s.name: s for s in build_plan(mode, tmp_path / "plan")}
    readers = {"model-service": Settings, "pager": PagerSettings, "drift-monitor": DriftSettings.from_env,
               "traffic-feed": FeedSettings}
    for name, read in readers.items():
        for key in [k for k in os.environ if k.startswith("AIOPS_")]:
            monkeypatch.delenv(key)
        for key, value in compose["services"][name]["environment"].items():
            monkeypatch.setenv(key, value)
        settings = read()
        assert settings.host == "0.0.0.0", f"{name} would listen on {settings.host} inside its container"
        assert settings.port == BY_NAME[name].default_port, name
        if name == "drift-monitor":
            assert settings.interval_s == float(plan[name].env["AIOPS_DRIFT_INTERVAL_S"]), mode


@pytest.mark.parametrize("binary", ["prometheus", "alertmanager"])
def test_monitoring_servers_run_with_the_native_flags(binary: str, tmp_path: Path) -> None:
    from monitoring import binaries, render

    # compose runs lab mode unless AIOPS_LAB_MODE says otherwise: Prometheus gets the lab's resend delay too
    make = (lambda *a: render.prometheus_command(*a, lab_mode=True)) if binary == "prometheus" else \
        getattr(binaries, f"{binary}_command")
    try:
        command = make(tmp_path / "x.yml", tmp_path / "data", BY_NAME[binary].default_port)
    except binaries.MonitoringBinaryMissing as exc:
        pytest.skip(str(exc))
    native, compose = _flags(command[1:]), _flags(SERVICES[binary]["command"])
    assert set(native) == set(compose), f"{binary}: flags differ: {sorted(set(native) ^ set(compose))}"
    for flag, value in native.items():
        if flag == "--web.listen-address":
            assert compose[flag] == f"0.0.0.0:{BY_NAME[binary].default_port}"
        elif flag in ("--config.file", "--storage.tsdb.path", "--storage.path"):
            continue  # container paths; test_compose_semantics checks the config file exists
        else:
            assert compose[flag] == value, f"{binary} {flag}: compose {compose[flag]!r}, native {value!r}"


def test_grafana_matches_the_native_set_up(tmp_path: Path) -> None:
    from labs.stack.grafana_config import render_grafana

    ini = configparser.ConfigParser()
    ini.read(render_grafana(tmp_path, port=3000, prometheus_url="http://127.0.0.1:9090"))
    env = SERVICES["grafana"]["environment"]
    assert Path(env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]).name == \
        Path(ini["dashboards"]["default_home_dashboard_path"]).name
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == ini["auth.anonymous"]["enabled"]
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == ini["auth.anonymous"]["org_role"]
    assert env["GF_ANALYTICS_REPORTING_ENABLED"] == ini["analytics"]["reporting_enabled"]
    assert env["GF_ANALYTICS_CHECK_FOR_UPDATES"] == ini["analytics"]["check_for_updates"]
