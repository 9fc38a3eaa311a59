"""The image's supporting files: the dependency lock and the two scripts the containers run.

The lock is checked against pyproject.toml (every runtime dependency pinned, every pin satisfying its
range) and against the venv's package metadata wherever the venv holds the locked version (no dependency
missing from the closure) -- the Dockerfile installs it with --no-deps, so a gap would only show at build.
The scripts run for real: the health probe against a real HTTP server, ensure-model against a registry.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from aiops_core.paths import REPO_ROOT
from model_service.registry import Registry
from tests.support.http_server import serving
from tests.support.lab import lab_environment

DOCKER_DIR = REPO_ROOT / "docker"
sys.path.insert(0, str(DOCKER_DIR))
import lock  # noqa: E402  -- docker/lock.py, the generator of the lock checked here

PIN = r"^[a-z0-9][a-z0-9._-]*==[A-Za-z0-9.+!-]+$"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version and name == canonicalize_name(name), f"{path.name}: {line!r} is not name==version"
            pins[name] = version.strip()
    return pins


LOCKED = _pins(DOCKER_DIR / "requirements.lock")


def test_every_runtime_dependency_is_pinned_within_its_range() -> None:
    for req in lock.runtime_requirements():
        name = canonicalize_name(req.name)
        assert name in LOCKED, f"{req.name} (pyproject.toml) is missing from docker/requirements.lock"
        assert req.specifier.contains(LOCKED[name], prereleases=True), f"{name}=={LOCKED[name]} violates {req}"


def test_no_test_tool_ships_in_the_image() -> None:
    import tomllib

    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    runtime = {canonicalize_name(r.name) for r in lock.runtime_requirements()}
    for line in extras["test"]:
        name = canonicalize_name(Requirement(line).name)
        if name not in runtime:
            assert name not in LOCKED or name == "pytest", f"test-only {name} is in the runtime lock"


def test_lock_is_closed_under_dependencies_where_the_venv_has_the_locked_version() -> None:
    checked = 0
    for name, version in LOCKED.items():
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        if dist.version != version:
            continue  # the venv moved on; the lock is still what the image installs
        checked += 1
        for raw in dist.requires or []:
            req = Requirement(raw)
            if lock._applies(req, set()):
                dep = canonicalize_name(req.name)
                assert dep in LOCKED, f"{name}=={version} needs {req}, which docker/requirements.lock lacks"
    assert checked > len(LOCKED) // 2, "too few locked versions installed here to check the closure"


def test_lock_generator_reproduces_the_committed_lock_from_this_venv() -> None:
    """Holds while the venv matches the lock (as right after `python docker/lock.py`); skips otherwise."""
    fresh = lock.closure(lock.runtime_requirements())
    if fresh != LOCKED:
        moved = sorted(n for n in set(fresh) | set(LOCKED) if fresh.get(n) != LOCKED.get(n))
        pytest.skip(f"the venv differs from the lock for {moved[:5]}...; regenerate with: python docker/lock.py")
    assert lock.render(fresh) == (DOCKER_DIR / "requirements.lock").read_text()


def test_build_lock_pins_the_build_backend() -> None:
    import tomllib

    build = _pins(DOCKER_DIR / "build-requirements.lock")
    backend = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for raw in backend:
        req = Requirement(raw)
        assert canonicalize_name(req.name) in build, f"{req.name} (build-system) is not pinned"
        assert req.specifier.contains(build[canonicalize_name(req.name)])


# --- docker/healthcheck.py ------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response({"/readyz": 200, "/starting": 503}.get(self.path, 404))
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    with serving(_Handler) as url:
        yield url


def _probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DOCKER_DIR / "healthcheck.py"), *args], capture_output=True,
                          text=True, timeout=20, env=env)


def test_health_probe_passes_only_on_2xx(http_server: str) -> None:
    assert _probe(f"{http_server}/readyz").returncode == 0
    starting = _probe(f"{http_server}/starting")
    assert starting.returncode == 1 and "503" in starting.stderr
    assert _probe(f"{http_server}/nope").returncode == 1


def test_health_probe_defaults_to_the_model_service_readiness_on_aiops_port(http_server: str) -> None:
    port = http_server.rsplit(":", 1)[1]
    assert _probe(env={**os.environ, "AIOPS_PORT": port}).returncode == 0


def test_health_probe_fails_fast_when_nothing_listens() -> None:
    from tests.support.processes import free_port

    done = _probe(f"http://127.0.0.1:{free_port()}/readyz")
    assert done.returncode == 1 and "unhealthy" in done.stderr


# --- docker/ensure_model.py -----------------------------------------------------------------------------
def _ensure(models: Path) -> subprocess.CompletedProcess[str]:
    # Ports of its own: with a lab running on the default ports, `model train` would deploy to that lab.
    env = lab_environment(models.parent / "state", AIOPS_MODELS_DIR=str(models))
    return subprocess.run([sys.executable, str(DOCKER_DIR / "ensure_model.py")], capture_output=True, text=True,
                          timeout=120, env=env, cwd=models.parent)


@pytest.mark.integration
def test_ensure_model_leaves_an_active_model_alone(tmp_path: Path, trained_registry: Path) -> None:
    import shutil

    models = tmp_path / "models"
    shutil.copytree(trained_registry, models)
    before = (Registry(models).versions(), Registry(models).active())
    done = _ensure(models)
    assert done.returncode == 0, done.stderr
    assert "already active" in done.stdout
    assert (Registry(models).versions(), Registry(models).active()) == before


@pytest.mark.integration
def test_ensure_model_trains_and_activates_the_first_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    done = _ensure(models)
    assert done.returncode == 0, done.stdout + done.stderr
    reg = Registry(models)
    assert reg.versions() == ["v1"] and reg.active() == "v1"
