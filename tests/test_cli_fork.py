"""The forked CLI (``tests/support/cli_fork.py``) behaves as a cold ``python -m labs.cli``: same stdout, stderr
and exit status, the call's own environment and directory, a timeout that kills, calls side by side."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from aiops_core.polling import wait_until
from tests.support import cli_fork
from tests.support.lab import CLI, lab_environment

pytestmark = pytest.mark.skipif(cli_fork.SPAWN, reason="AIOPS_TEST_CLI=spawn: every call is started cold")


def _cold(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=cwd)


def _same(cold: subprocess.CompletedProcess[str], warm: subprocess.CompletedProcess[str]) -> None:
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)


@pytest.mark.parametrize("args", [
    ["--help"],                      # click's program name: 'python -m labs.cli'
    ["nosuch"],                      # usage error: exit 2 on stderr
    ["drill", "list"],               # a rich table, sized by COLUMNS
    ["drill", "start", "no-such-drill"],  # a domain error: its exit status and message
    ["config", "get"],               # no lab running in this state dir: the error names the fix
])
def test_a_forked_call_prints_and_exits_as_a_cold_start(tmp_path: Path, args: list[str]) -> None:
    env = lab_environment(tmp_path / "state")
    _same(_cold(args, env), cli_fork.run(CLI, args, env, 120))


def test_the_call_brings_its_environment_and_directory(tmp_path: Path) -> None:
    """Two calls with different widths and state dirs, each as its cold twin prints it (rich's console is
    re-initialised per call; a zygote's console would keep one width); and the directory is the caller's."""
    narrow = lab_environment(tmp_path / "a", COLUMNS="70")
    wide = lab_environment(tmp_path / "b", COLUMNS="180")
    outputs = {cli_fork.run(CLI, ["drill", "list"], env, 120).stdout for env in (narrow, wide)}
    assert len(outputs) == 2
    _same(_cold(["drill", "list"], narrow), cli_fork.run(CLI, ["drill", "list"], narrow, 120))
    os.chdir(tmp_path)
    try:
        warm = cli_fork.run(CLI, ["drill", "validate", "mine.yml"], narrow, 120)
    finally:
        os.chdir(Path(__file__).resolve().parents[1])
    _same(_cold(["drill", "validate", "mine.yml"], narrow, cwd=tmp_path), warm)
    assert "mine.yml" in warm.stderr + warm.stdout


def test_a_timeout_kills_the_call_and_keeps_its_output(tmp_path: Path) -> None:
    env = lab_environment(tmp_path / "state")
    def watch() -> None:
        with pytest.raises(subprocess.TimeoutExpired) as info:
            cli_fork.run(CLI, ["pager", "watch", "--interval", "1s", "--for", "120s"], env, 4)
        assert "watching the alert path" in str(info.value.output)

    thread = threading.Thread(target=watch)
    thread.start()
    wait_until(lambda: cli_fork.running(env["AIOPS_STATE_DIR"]), timeout=60, what="the call to start")
    seen = cli_fork.running(env["AIOPS_STATE_DIR"])
    assert seen and os.getpid() not in seen  # a process of its own
    thread.join(120)
    assert not thread.is_alive()
    for pid in seen:
        wait_until(lambda pid=pid: not Path(f"/proc/{pid}").exists()
                   or "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0],
                   timeout=30, what=f"the timed-out call {pid} to be gone")
    assert cli_fork.running(env["AIOPS_STATE_DIR"]) == []


def test_calls_side_by_side_keep_their_own_output(tmp_path: Path) -> None:
    envs = [lab_environment(tmp_path / f"s{i}", COLUMNS=str(60 + 20 * i)) for i in range(4)]
    expected = [_cold(["drill", "list"], env).stdout for env in envs]
    got: list[str] = [""] * 4

    def call(i: int) -> None:
        got[i] = cli_fork.run(CLI, ["drill", "list"], envs[i], 120).stdout

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert got == expected
