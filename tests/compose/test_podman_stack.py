"""docker/podman_stack.py's own logic: the niced build (no engine), and `clean` on a real Podman.

The suite builds the images beside its drills (tests/compose/container_stack.py); only the build may run at a
lower priority. The engine's API service is started after it by the same process, and every container
inherits that service's priority: a stack left niced answered its drill's probes late under load.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aiops_core import cpu_priority
from aiops_core.paths import REPO_ROOT
from aiops_core.polling import wait_until

sys.path.insert(0, str(REPO_ROOT / "docker"))
import podman_stack  # docker/podman_stack.py


def test_only_the_build_runs_niced_and_the_priority_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("restoring a priority needs root (as rootful Podman does)")
    seen: list[int] = []
    monkeypatch.setattr(podman_stack, "build", lambda timings: seen.append(os.getpriority(os.PRIO_PROCESS, 0)))
    before = os.getpriority(os.PRIO_PROCESS, 0)
    podman_stack.niced_build({}, 10)
    assert seen == [max(before, 10)]
    assert os.getpriority(os.PRIO_PROCESS, 0) == before


def test_a_failed_build_still_restores_the_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("restoring a priority needs root (as rootful Podman does)")

    def broken(timings: dict[str, float]) -> None:
        raise SystemExit("mmdebstrap failed")

    monkeypatch.setattr(podman_stack, "build", broken)
    before = os.getpriority(os.PRIO_PROCESS, 0)
    with pytest.raises(SystemExit):
        podman_stack.niced_build({}, 10)
    assert os.getpriority(os.PRIO_PROCESS, 0) == before


def test_build_nice_is_checked_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        podman_stack.main(["up", "--build-nice", "25"])
    assert exited.value.code == 2
    assert "--build-nice" in capsys.readouterr().err


def test_the_stand_ins_take_the_hosts_debian_packages_at_the_compose_tags_versions() -> None:
    """The monitoring image is the base + the host's installed prometheus/prometheus-alertmanager files (not a
    second bootstrapped rootfs): the binaries and the classic UI's assets, no docs; another version is refused
    with the command that installs the right one. Real dpkg-query on the host's packages (.ci/run installs them)."""
    import shutil

    if shutil.which("dpkg-query") is None or shutil.which("prometheus") is None:
        pytest.skip("needs Debian's prometheus package on the host: apt-get install -y prometheus")
    files = podman_stack._package_files("prometheus", podman_stack.MONITORING_PACKAGES["prometheus"])
    names = {str(f) for f in files}
    assert "/usr/bin/prometheus" in names and "/usr/bin/promtool" in names
    assert any(n.startswith("/usr/share/prometheus/web/") for n in names)
    assert not any(n.startswith(("/usr/share/doc", "/usr/share/man", "/etc/", "/lib/")) for n in names)
    with pytest.raises(SystemExit, match="apt-get install -y prometheus prometheus-alertmanager"):
        podman_stack._package_files("prometheus", "9.99.0")
    assert podman_stack.monitoring_key() == podman_stack.monitoring_key()


@pytest.mark.skipif(cpu_priority.autogroup_nice(os.getpid()) is None, reason="no session autogroups on this kernel")
def test_a_build_step_in_a_session_of_its_own_is_niced_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``RUN`` step runs in a session of its own (measured under ``nice -n 10 podman build``: the step's
    autogroup at nice 0, so it competed at full weight). The stand-in step here is a real process started the
    same way; the caller's own session is left alone."""
    if os.geteuid() != 0:
        pytest.skip("restoring a priority needs root (as rootful Podman does)")
    own = cpu_priority.autogroup_nice(os.getpid())
    seen: list[int | None] = []

    def build(timings: dict[str, float]) -> None:
        step = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
        try:
            wait_until(lambda: cpu_priority.autogroup_nice(step.pid) == 10, timeout=15, interval=0.1,
                       what="the build step's session niced")
            seen.append(cpu_priority.autogroup_nice(os.getpid()))
        finally:
            step.kill()
            step.wait()

    monkeypatch.setattr(podman_stack, "build", build)
    podman_stack.niced_build({}, 10)
    assert seen == [own] and cpu_priority.autogroup_nice(os.getpid()) == own


def test_clean_removes_the_images_when_the_work_dir_is_gone(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by hand: with the images in Podman's store but ``/var/tmp/aiops-lab-podman`` gone, every podman
    call of the stack failed ("finding config on system: CONTAINERS_CONF file: ... no such file") and ``clean``
    ignored it. A real engine, a throw-away image of our own (never one the suite's stack uses); it skips, as
    the containers tests do, only where Podman cannot be installed."""
    import podman_engine

    reason = podman_engine.install_reason()
    if reason:
        pytest.skip(reason)
    if not shutil.which("podman"):
        podman_engine.install()
    monkeypatch.setattr(podman_engine, "WORKDIR", tmp_path / "gone")
    image = f"localhost/aiops-lab-test-clean:{os.getpid()}"
    archive = tmp_path / "empty.tar"
    subprocess.run(["tar", "cf", str(archive), "-T", "/dev/null"], check=True)
    subprocess.run(["podman", "import", "-q", str(archive), image], check=True, capture_output=True)
    try:
        assert podman_stack.remove_images([image, f"{image}-never-built"]) == [image]
        assert subprocess.run(["podman", "image", "exists", image]).returncode == 1
        assert (tmp_path / "gone" / "containers.conf").read_text() == podman_engine.CONTAINERS_CONF
    finally:
        subprocess.run(["podman", "rmi", "--force", image], capture_output=True)
