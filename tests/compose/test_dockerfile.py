"""The Dockerfile: hadolint-clean, pinned, non-root, healthy by default, and built only from allow-listed files.

Static only: no engine here to build it. docs/compose.md lists what was checked by hand instead (the
builder stage's pip steps replayed in a plain venv; every locked wheel resolving for linux/amd64 and arm64).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aiops_core.paths import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).is_file():
        pytest.skip("hadolint is not installed; it comes with the test extra: pip install -e '.[test]'")
    return found


def _lint(path: Path) -> list[dict[str, object]]:
    done = subprocess.run([_hadolint(), "--no-color", "-f", "json", "--failure-threshold", "style", str(path)],
                          capture_output=True, text=True, timeout=60)
    return json.loads(done.stdout or "[]")


def instructions(text: str | None = None) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in (text if text is not None else DOCKERFILE.read_text()).splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += (" " if pending else "") + stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            word, _, rest = pending.partition(" ")
            out.append((word.upper(), rest.strip()))
            pending = ""
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions():
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def test_hadolint_finds_nothing_at_any_severity() -> None:
    findings = _lint(DOCKERFILE)
    assert findings == [], "\n".join(f"line {f['line']}: {f['code']} {f['message']}" for f in findings)


def test_hadolint_is_really_linting(tmp_path: Path) -> None:
    """Guards the test above against a linter that silently checks nothing."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nUSER root\n")
    codes = {f["code"] for f in _lint(bad)}
    assert {"DL3007", "DL3013"} <= codes, codes


def test_every_hadolint_ignore_says_why() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    pragmas = [i for i, line in enumerate(lines) if "hadolint ignore=" in line]
    for i in pragmas:
        reason = lines[i - 1].strip() if i else ""
        assert reason.startswith("#") and "hadolint" not in reason and len(reason) > 20, (
            f"line {i + 1}: put the reason for {lines[i].strip()} in a comment right above it")


def test_base_image_is_one_pinned_slim_python_311() -> None:
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert default, "the base image is set once, in ARG PYTHON_IMAGE"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", default.group(1)), default.group(1)
    froms = [args for word, args in instructions() if word == "FROM"]
    assert len(froms) >= 2, "multi-stage: a builder and a runtime stage"
    assert all(f.startswith("${PYTHON_IMAGE}") for f in froms), froms


def test_runtime_stage_is_non_root_healthy_and_runs_the_model_service() -> None:
    runtime = stages()[-1]
    words = [w for w, _ in runtime]
    user = [a for w, a in runtime if w == "USER"]
    assert user and re.fullmatch(r"[1-9]\d{3,}(:\d+)?", user[-1]), f"numeric non-root USER, got {user}"
    assert words.index("USER") > max(i for i, w in enumerate(words) if w in ("RUN", "COPY")), \
        "USER must come after every RUN/COPY of the runtime stage"
    assert "HEALTHCHECK" in words
    cmd = json.loads(next(a for w, a in runtime if w == "CMD"))
    assert cmd == ["python", "-m", "model_service"]


def test_runtime_stage_carries_no_build_tools_or_caches() -> None:
    runtime_text = " ".join(a for _, a in stages()[-1])
    for tool in ("apt-get install", "gcc", "build-essential", "pip install"):
        assert tool not in runtime_text, f"the runtime stage should not run {tool!r}"
    assert "pip uninstall" in runtime_text, "the base image's pip/setuptools/wheel are removed"
    copies = [a for w, a in stages()[-1] if w == "COPY" and a.startswith("--from=")]
    assert {c.split()[1] for c in copies} == {"/opt/venv", "/app"}, copies
    builder_text = " ".join(a for _, a in stages()[0])
    assert "PIP_NO_CACHE_DIR=1" in builder_text and "pip uninstall --yes setuptools pip" in builder_text


def test_dependencies_install_from_the_lock_without_resolution() -> None:
    runs = " ".join(a for w, a in instructions() if w == "RUN")
    assert "--no-deps --only-binary=:all: -r /tmp/requirements.lock" in runs
    assert "pip check" in runs


def _dockerignore() -> list[str]:
    return [line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and not
            line.startswith("#")]


def test_dockerignore_is_an_allow_list_that_keeps_secrets_and_state_out() -> None:
    rules = _dockerignore()
    assert rules[0] == "*", ".dockerignore starts by excluding everything"
    for never in (".env", ".lab", ".venv", ".git", "tests"):
        assert f"!{never}" not in rules and not any(r.startswith(f"!{never}/") for r in rules), never
    assert "**/.env" in rules and "**/.lab" in rules


def test_every_copied_path_exists_and_is_allowed_into_the_build_context() -> None:
    allowed = {r[1:].rstrip("/") for r in _dockerignore() if r.startswith("!")}
    copies = [a for w, a in instructions() if w == "COPY" and "--from=" not in a]
    assert copies
    for args in copies:
        sources = [s for s in args.split()[:-1] if not s.startswith("--")]
        for source in sources:
            path = source.rstrip("/")
            assert (REPO_ROOT / path).exists(), f"COPY {source}: not in the repository"
            assert path in allowed or any(path.startswith(a + "/") for a in allowed), \
                f"COPY {source}: excluded by .dockerignore (add !{path})"
