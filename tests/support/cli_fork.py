"""``aiops-lab ARGS`` as a separate process, forked from a warm interpreter instead of started cold.

Why: the suite runs the CLI ~400 times as a separate process (a learner's next command in a new terminal).
Measured in a full run (per-process CPU at exit, ``up``/``drill``/``model``/... as the tests call them):
~250 CPU-seconds, of which ~0.35-0.45 s a call is Python importing click, rich, httpx, pydantic and the lab's
modules before the command does anything, and another ~0.6 s for matplotlib in every passing ``drill check``
and ``drill report``. On a 2-core machine whose suite is CPU-bound, that is minutes of wall time.

How: one *zygote* process per test session imports ``labs.cli`` and every noun's module once, then waits on a
Unix socket. A call sends its argv, environment and working directory, plus the write ends of two pipes; the
zygote forks, and the child -- a real, separate OS process -- takes those pipes as its stdout/stderr,
``/dev/null`` as its stdin, the call's environment and directory as its own, and runs the same
``labs.cli.main.main()`` that ``python -m labs.cli`` runs, ending the same way (atexit handlers, non-daemon
threads joined, exit status). The caller gets a ``subprocess.CompletedProcess``, or ``TimeoutExpired`` after
killing the child, exactly as with ``subprocess.run``.

What differs from a cold start, and how it is covered:
* modules are already imported: a command that would fail to import something fails only in a cold start.
  The tests that start ``aiops-lab`` with ``subprocess.Popen`` (``up`` in ``test_lifecycle.py``, a ``drill
  start`` killed mid-way, ``pager watch``, ``token``) and the whole suite with ``AIOPS_TEST_CLI=spawn`` run
  every call cold;
* ``/proc/PID/environ`` of the child shows the zygote's start-up environment, not the call's (Linux records
  the environment at ``exec``): the processes the child starts do carry the call's, and ``running()`` lists
  the children by state dir for the tests that look lab processes up (``tests/labs/drills/priority.py``);
* rich's consoles are re-initialised in the child, so ``COLUMNS`` and colour settings come from the call.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SPAWN = os.environ.get("AIOPS_TEST_CLI") == "spawn"
START_TIMEOUT_S = 120.0
_lock = threading.Lock()
_zygote: subprocess.Popen[bytes] | None = None
_socket_path: Path | None = None
_running: dict[int, str] = {}  # child pid -> its AIOPS_STATE_DIR, while the call runs
_running_lock = threading.Lock()


def running(state_dir: str | os.PathLike[str]) -> list[int]:
    """Pids of forked CLI children running now for the lab at ``state_dir``."""
    with _running_lock:
        return [pid for pid, state in _running.items() if state == str(state_dir)]


# --- the caller's side ---------------------------------------------------------------------------------------
def run(cli: list[str], args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([*cli, *args], env=env, capture_output=True, text=True, timeout=timeout,
    stdin=DEVNULL)``, with the process forked from the zygote (``cli`` is only the command shown)."""
    if SPAWN:
        return subprocess.run([*cli, *args], env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    path = _ensure_zygote()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        payload = json.dumps({"args": args, "env": env, "cwd": os.getcwd()}).encode()
        socket.send_fds(sock, [struct.pack("!I", len(payload)) + payload], [out_w, err_w])
    except BaseException:
        sock.close()
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    return _collect(sock, out_r, err_r, [*cli, *args], env.get("AIOPS_STATE_DIR", ""), timeout)


def _collect(sock: socket.socket, out_r: int, err_r: int, cmd: list[str], state: str,
             timeout: float) -> subprocess.CompletedProcess[str]:
    """Read the child's stdout, stderr and status line until all three end, or kill it at the deadline."""
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    control = b""
    pid: int | None = None
    deadline = time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    sel.register(out_r, selectors.EVENT_READ)
    sel.register(err_r, selectors.EVENT_READ)
    sel.register(sock, selectors.EVENT_READ)
    open_ends = 3
    try:
        while open_ends:
            left = deadline - time.monotonic()
            if left <= 0:
                if pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(cmd, timeout, output=_text(chunks[out_r]),
                                                stderr=_text(chunks[err_r]))
            for key, _ in sel.select(min(left, 1.0)):
                if key.fileobj is sock:
                    data = sock.recv(4096)
                    if not data:
                        sel.unregister(sock)
                        open_ends -= 1
                        continue
                    control += data
                    if pid is None and b"\n" in control:
                        pid = int(control.split(b"\n", 1)[0])
                        with _running_lock:
                            _running[pid] = state
                else:
                    fd = key.fd
                    data = os.read(fd, 65536)
                    if data:
                        chunks[fd].append(data)
                    else:
                        sel.unregister(fd)
                        open_ends -= 1
    finally:
        sel.close()
        sock.close()
        os.close(out_r)
        os.close(err_r)
        if pid is not None:
            with _running_lock:
                _running.pop(pid, None)
    lines = control.decode().split("\n")
    status = next((line for line in lines[1:] if line.startswith("exit ")), None)
    stderr = _text(chunks[err_r])
    if status is None:  # killed before it could say how it ended
        return subprocess.CompletedProcess(cmd, -signal.SIGKILL, _text(chunks[out_r]),
                                           stderr + "\n[cli_fork] the process ended without an exit status")
    return subprocess.CompletedProcess(cmd, int(status.split()[1]), _text(chunks[out_r]), stderr)


def _text(chunks: list[bytes]) -> str:
    return b"".join(chunks).decode(errors="replace")


def _ensure_zygote() -> Path:
    global _zygote, _socket_path
    with _lock:
        if _zygote is not None and _zygote.poll() is None and _socket_path is not None:
            return _socket_path
        directory = Path(tempfile.mkdtemp(prefix="aiops-cli-fork-"))
        path = directory / "zygote.sock"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIOPS_", "LOCUST_"))}
        env.update({"PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
        log = (directory / "zygote.log").open("wb")
        _zygote = subprocess.Popen([sys.executable, "-m", "tests.support.cli_fork", str(path)], env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=Path(__file__).resolve().parents[2])
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not path.exists():
            if _zygote.poll() is not None or time.monotonic() > deadline:
                text = (directory / "zygote.log").read_text(errors="replace")
                _zygote.kill()
                raise RuntimeError(f"the CLI zygote did not start (exit {_zygote.poll()}):\n{text[-3000:]}")
            time.sleep(0.05)
        _socket_path = path
        atexit.register(stop)
        return path


def stop() -> None:
    """End the zygote (the children it forked run on to their own end)."""
    global _zygote, _socket_path
    with _lock:
        if _zygote is not None and _zygote.poll() is None:
            _zygote.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                _zygote.wait(10)
        _zygote = None
        if _socket_path is not None:  # its socket and log
            shutil.rmtree(_socket_path.parent, ignore_errors=True)
            _socket_path = None


# --- the zygote's side -----------------------------------------------------------------------------------
def _preload() -> None:
    """Everything a CLI call may import, so children pay none of it."""
    from labs.cli import main

    for module, _, _ in main.COMMANDS.values():
        importlib.import_module(module)
    for module in ("labs.drills.engine", "labs.drills.postmortem", "labs.drills.sli_chart", "matplotlib",
                   "matplotlib.figure", "matplotlib.backends.backend_agg", "labs.dashboards.render"):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    if "gevent" in sys.modules:  # monkey-patching in the zygote would leak into every command
        raise RuntimeError("a CLI module imported gevent at import time; the zygote cannot fork it safely")
    if threading.active_count() != 1:
        raise RuntimeError(f"threads started while importing the CLI: {threading.enumerate()}")


def _recv_call(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 2)
    (size,) = struct.unpack("!I", data[:4])
    body = data[4:]
    while len(body) < size:
        more = conn.recv(size - len(body))
        if not more:
            raise ConnectionError("the caller went away mid-request")
        body += more
    return json.loads(body), list(fds)


def _child(conn: socket.socket, call: dict[str, object], fds: list[int], listener: socket.socket) -> None:
    """In the forked child: become the call's process, run the CLI, report the status, exit. Never returns."""
    code = 1
    try:
        listener.close()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in (devnull, *fds):
            os.close(fd)
        os.environ.clear()
        os.environ.update(call["env"])  # type: ignore[arg-type]
        os.chdir(str(call["cwd"]))
        conn.sendall(f"{os.getpid()}\n".encode())
        code = _run_cli(list(call["args"]))  # type: ignore[arg-type]
    except BaseException:  # the harness itself failed: say so on stderr
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(BaseException):
            conn.sendall(f"exit {code}\n".encode())
        os._exit(code)


def _run_cli(args: list[str]) -> int:
    """``python -m labs.cli ARGS`` from here on: same main, same program name, same ending."""
    import labs.cli
    from labs.cli import output
    from labs.cli.main import main

    output.console.__init__()  # type: ignore[misc]  # width and colours from the call's environment
    output.err_console.__init__(stderr=True)  # type: ignore[misc]
    sys.argv = [str(Path(labs.cli.__file__).with_name("__main__.py")), *args]
    sys.modules["__main__"].__package__ = "labs.cli"  # click names the program 'python -m labs.cli'
    try:
        main()
        code = 0
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    threading._shutdown()  # type: ignore[attr-defined]  # the interpreter joins non-daemon threads at exit
    atexit._run_exitfuncs()
    return code


def serve(path: Path) -> None:
    _preload()
    gc.collect()
    gc.freeze()  # the imported modules' objects stay shared with every child (no copy on the collector's write)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path) + ".tmp")
    listener.listen(64)
    os.rename(str(path) + ".tmp", path)  # the caller waits for the name: it appears only once we listen
    listener.settimeout(1.0)
    parent = os.getppid()
    while os.getppid() == parent:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        try:
            call, fds = _recv_call(conn)
        except (OSError, ValueError) as exc:
            print(f"bad request: {exc}", file=sys.stderr, flush=True)
            conn.close()
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            _child(conn, call, fds, listener)
        for fd in fds:
            os.close(fd)
        conn.close()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
