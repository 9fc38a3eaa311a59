"""What the schema cannot say: the compose stack starts in order, mounts files that exist, pins its images,
keeps secrets out of the file, publishes on loopback only, and fits in 1 GiB.

All static: there is no Docker engine on the machines this suite runs on. What a running stack would add
(OOM behaviour under the limits, image pulls, health timings) is not tested here; docs/compose.md says so.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import pytest

from monitoring.render import MODES
from tests.compose import compose_file
from tests.compose.compose_file import REPO_ROOT

GIB = 1024**3
COMPOSE = compose_file.load()
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ONE_SHOT = {name for name, svc in SERVICES.items() if svc.get("restart") == "no"}
LONG_RUNNING = set(SERVICES) - ONE_SHOT
# On-demand command containers (`docker compose run --rm cli ...`): not part of the running stack.
TOOLS = {name for name, svc in SERVICES.items() if "tools" in svc.get("profiles", [])}
PROJECT_IMAGE = "aiops-lab:local"


def _bind_mounts(svc: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in svc.get("volumes", []) if isinstance(v, dict) and v.get("type") == "bind"]


def container_path_in_repo(service: str, container_path: str, compose: dict[str, Any] = COMPOSE) -> Any:
    """The repository file a container path resolves to through the service's bind mounts (None if none)."""
    path = PurePosixPath(container_path)
    for mount in _bind_mounts(compose["services"][service]):
        target = PurePosixPath(mount["target"])
        if path == target or target in path.parents:
            return compose_file.repo_path(mount["source"]) / path.relative_to(target)
    return None


def _depends(name: str) -> dict[str, dict[str, Any]]:
    return SERVICES[name].get("depends_on", {})


def _waits_for(name: str) -> set[str]:
    """Every service ``name`` waits for, transitively."""
    seen: set[str] = set()
    todo = list(_depends(name))
    while todo:
        dep = todo.pop()
        if dep not in seen:
            seen.add(dep)
            todo.extend(_depends(dep))
    return seen


def _limit(name: str) -> int:
    return compose_file.memory_bytes(SERVICES[name]["deploy"]["resources"]["limits"]["memory"])


# --- start-up order ------------------------------------------------------------------------------------
def test_every_dependency_exists_and_waits_for_health_or_completion() -> None:
    for name in SERVICES:
        for dep, spec in _depends(name).items():
            assert dep in SERVICES, f"{name} depends on unknown service {dep}"
            expected = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            assert spec.get("condition") == expected, f"{name} -> {dep}: condition should be {expected}"


def test_every_service_another_depends_on_has_a_healthcheck() -> None:
    depended_on = {dep for name in SERVICES for dep in _depends(name)} - ONE_SHOT
    assert depended_on, "no dependencies at all?"
    for dep in depended_on:
        check = SERVICES[dep].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{dep} is waited for but has no healthcheck"


def test_model_service_waits_for_the_one_shot_training() -> None:
    assert SERVICES["model-init"]["command"] == ["ensure-model"]
    assert _depends("model-service")["model-init"] == {"condition": "service_completed_successfully"}


def test_restart_policies() -> None:
    one_shot, tools = sorted(ONE_SHOT), sorted(TOOLS)
    assert one_shot == ["cli", "model-init"] and tools == ["cli"]
    for name in LONG_RUNNING:
        assert SERVICES[name]["restart"] == "unless-stopped", name


# --- files ---------------------------------------------------------------------------------------------
def test_bind_mounts_are_existing_repo_paths_mounted_read_only() -> None:
    mounts = [(name, m) for name in SERVICES for m in _bind_mounts(SERVICES[name])]
    assert mounts
    for name, mount in mounts:
        source = compose_file.repo_path(mount["source"])
        assert source.exists(), f"{name} mounts {mount['source']}, which is not in the repository"
        assert REPO_ROOT in source.parents, f"{name} mounts {source} from outside the repository"
        assert mount.get("read_only") is True, f"{name}: {mount['source']} must be read-only"
        # Long syntax without create_host_path: a wrong path (e.g. AIOPS_LAB_MODE=typo) is an error,
        # not an empty directory silently created and mounted.
        assert mount.get("bind", {}).get("create_host_path") is False, f"{name}: {mount['source']}"
    short_binds = [v for svc in SERVICES.values() for v in svc.get("volumes", [])
                   if isinstance(v, str) and v.startswith((".", "/"))]
    assert not short_binds, f"use the long syntax for bind mounts: {short_binds}"


@pytest.mark.parametrize("mode", MODES)
def test_config_paths_the_containers_read_exist_in_every_mode(mode: str) -> None:
    compose = compose_file.load({**compose_file.EXAMPLE_SECRETS, "AIOPS_LAB_MODE": mode})
    wanted = {
        ("prometheus", "/etc/prometheus/prometheus.yml"),
        ("alertmanager", "/etc/alertmanager/alertmanager.yml"),
        ("grafana", compose["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]),
        ("grafana", "/etc/grafana/provisioning/datasources"),
        ("grafana", "/etc/grafana/provisioning/dashboards"),
        ("drift-monitor", compose["services"]["drift-monitor"]["environment"]["AIOPS_DRIFT_CONFIG"]),
    }
    for flag_service in ("prometheus", "alertmanager"):
        for arg in compose["services"][flag_service]["command"]:
            if arg.startswith("--config.file="):
                wanted.add((flag_service, arg.split("=", 1)[1]))
    for service, path in sorted(wanted):
        in_repo = container_path_in_repo(service, path, compose)
        assert in_repo is not None, f"{service} reads {path}, but no bind mount provides it"
        assert in_repo.exists(), f"{service} reads {path} = {in_repo.relative_to(REPO_ROOT)}, which does not exist"
    rules = container_path_in_repo("prometheus", "/etc/prometheus/rules", compose)
    assert sorted(rules.glob("*.yml")), f"no rule files in {rules}"


def test_state_lives_in_named_volumes() -> None:
    declared = set(COMPOSE["volumes"])
    assert {"lab-state", "model-registry", "prometheus-data", "alertmanager-data", "grafana-data"} <= declared
    used = set()
    for svc in SERVICES.values():
        for v in svc.get("volumes", []):
            source = v.split(":", 1)[0] if isinstance(v, str) else v["source"]
            if not source.startswith((".", "/")):
                assert source in declared, f"volume {source} is not declared"
                used.add(source)
    assert used == declared, f"declared but unused: {declared - used}"
    for name in ("model-service", "drift-monitor", "pager"):
        env = SERVICES[name]["environment"]
        targets = {v.split(":", 1)[1] if isinstance(v, str) else v["target"] for v in SERVICES[name]["volumes"]}
        assert env["AIOPS_STATE_DIR"] in targets, f"{name}'s state dir is not on a volume"
    for name in ("model-init", "model-service", "drift-monitor"):
        targets = {v.split(":", 1)[1] if isinstance(v, str) else v["target"] for v in SERVICES[name]["volumes"]}
        assert SERVICES[name]["environment"]["AIOPS_MODELS_DIR"] in targets, f"{name} cannot see the registry"


# --- images --------------------------------------------------------------------------------------------
def test_images_are_pinned() -> None:
    for name, svc in SERVICES.items():
        image = svc["image"]
        tag = image.rpartition(":")[2] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest", f"{name}: image {image} is not pinned to a tag"
        if image != PROJECT_IMAGE:
            assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{name}: {image} should pin an exact release"
    assert {svc["image"] for svc in SERVICES.values() if "build" in svc} == {PROJECT_IMAGE}


def test_the_project_image_is_built_once_and_never_pulled() -> None:
    builders = [name for name, svc in SERVICES.items() if "build" in svc]
    assert builders == ["model-init"]
    for name, svc in SERVICES.items():
        if svc["image"] == PROJECT_IMAGE and name not in builders:
            assert svc.get("pull_policy") == "never", f"{name} would try to pull {PROJECT_IMAGE} from a registry"


# --- resources -----------------------------------------------------------------------------------------
def test_every_service_has_a_memory_limit() -> None:
    for name in SERVICES:
        assert _limit(name) > 0, name


def test_the_whole_stack_fits_in_1_gib() -> None:
    """Every long-running service at once, the load profile's Locust included."""
    total = sum(_limit(name) for name in LONG_RUNNING)
    assert total < GIB, f"long-running services' memory limits sum to {total / 2**20:.0f} MiB"


def test_one_shot_services_fit_beside_what_runs_at_the_same_time() -> None:
    """model-init runs while services that do not wait for it may already be up."""
    for one_shot in ONE_SHOT - TOOLS:
        concurrent = {name for name in LONG_RUNNING if one_shot not in _waits_for(name)}
        total = _limit(one_shot) + sum(_limit(name) for name in concurrent)
        assert total < GIB, f"{one_shot} + {sorted(concurrent)} = {total / 2**20:.0f} MiB"


def test_tool_containers_are_opt_in_and_bounded() -> None:
    """A tool container adds its own limit while one command runs; it never starts with the stack."""
    for name in TOOLS:
        assert SERVICES[name]["profiles"] == ["tools"] and _limit(name) <= 256 * 2**20, name
        assert not any(name in _depends(other) for other in SERVICES), f"nothing may wait for {name}"


def test_memory_budget_arithmetic_reads_compose_units() -> None:
    assert compose_file.memory_bytes("240M") == 240 * 2**20
    assert compose_file.memory_bytes("1g") == GIB
    assert compose_file.memory_bytes(1024) == 1024
    with pytest.raises(ValueError):
        compose_file.memory_bytes("lots")


# --- exposure and secrets ------------------------------------------------------------------------------
def test_ports_are_published_on_loopback_only() -> None:
    for name, svc in SERVICES.items():
        for port in svc.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    raw = compose_file.raw()["services"]
    for name, svc in raw.items():
        for port in svc.get("ports", []):
            assert port.startswith("${AIOPS_PUBLISH_HOST:-127.0.0.1}:"), f"{name}: {port}"


def test_secrets_have_no_default_and_are_required() -> None:
    text = compose_file.COMPOSE_FILE.read_text()
    for var in ("AIOPS_ADMIN_TOKEN", "AIOPS_GRAFANA_ADMIN_PASSWORD"):
        uses = re.findall(r"\$\{" + var + r"([^}]*)\}", text)
        assert uses and all(u.startswith(":?") for u in uses), f"{var} must be ${{{var}:?...}}, found {uses}"
        env = {k: v for k, v in compose_file.EXAMPLE_SECRETS.items() if k != var}
        with pytest.raises(compose_file.InterpolationError, match=var):
            compose_file.load(env)
    assert "GF_SECURITY_ADMIN_PASSWORD" in SERVICES["grafana"]["environment"]


def test_env_example_documents_every_variable_with_the_compose_default() -> None:
    documented = compose_file.env_example()
    for var, default in compose_file.compose_variables().items():
        assert var in documented, f"${{{var}}} is used in docker-compose.yml but not documented in .env.example"
        if default is not None:
            assert documented[var][0] == default, f".env.example shows {var}={documented[var][0]}, compose: {default}"
    secrets = {"AIOPS_ADMIN_TOKEN", "AIOPS_GRAFANA_ADMIN_PASSWORD"}
    assert all(not documented[s][1] for s in secrets), ".env.example must not set a secret value"


def test_env_example_sets_nothing_the_native_model_service_would_pick_up() -> None:
    """pydantic-settings reads .env in the working directory: a container-only value (AIOPS_HOST=0.0.0.0)
    there would silently change the native lab. Only the admin token may be shared, on purpose."""
    from model_service.settings import Settings

    prefix = Settings.model_config["env_prefix"]
    native = {prefix + field.upper() for field in Settings.model_fields}
    assert set(compose_file.env_example()) & native == {"AIOPS_ADMIN_TOKEN"}


def test_compose_interpolation_reader_follows_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    cases = {"${SET}": "x", "${UNSET:-d}": "d", "${EMPTY:-d}": "d", "${EMPTY-d}": "", "${SET:+alt}": "alt",
             "${UNSET:+alt}": "", "$$SET": "$SET", "a${SET}b": "axb", "${UNSET}": ""}
    for text, expected in cases.items():
        assert compose_file.interpolate(text, env) == expected, text
    with pytest.raises(compose_file.InterpolationError, match="need it"):
        compose_file.interpolate("${EMPTY:?need it}", env)
