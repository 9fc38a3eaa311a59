"""How to start the Prometheus and Alertmanager binaries for the lab, and how to tell they are ready.

The native launcher and the integration tests build their command lines here, so both run exactly the
same flags. Both servers listen on loopback only by default; Alertmanager runs without clustering (a
single instance has no peers, and the gossip port would be one more thing to collide).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from aiops_core.errors import MissingDependency
from aiops_core.topology import LOOPBACK

READY_PATH = "/-/ready"
APT_INSTALL = "sudo apt-get install -y prometheus prometheus-alertmanager"
# Longer than the 30-day SLO period so slo:error_budget_remaining:ratio_rate30d sees a whole period.
RETENTION = "35d"


class MonitoringBinaryMissing(MissingDependency):
    """A Prometheus/Alertmanager binary is not installed (or not where the override points)."""


def find_binary(names: tuple[str, ...], env_var: str) -> str:
    """The first of ``names`` on PATH, or the path in ``env_var`` (for a downloaded release tarball)."""
    override = os.environ.get(env_var)
    if override:
        if Path(override).is_file() and os.access(override, os.X_OK):
            return override
        raise MonitoringBinaryMissing(f"{env_var}={override} is not an executable file; fix the path or unset it")
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise MonitoringBinaryMissing(f"{names[0]} is not installed; install it with: {APT_INSTALL} "
                                  f"(or point {env_var} at the binary)")


def prometheus_binary() -> str:
    return find_binary(("prometheus",), "AIOPS_PROMETHEUS_BINARY")


def alertmanager_binary() -> str:
    # Debian names the package's binary prometheus-alertmanager; upstream release tarballs say alertmanager.
    return find_binary(("prometheus-alertmanager", "alertmanager"), "AIOPS_ALERTMANAGER_BINARY")


def _server_command(binary: str, config: Path, storage_flag: str, data_dir: Path, port: int, host: str,
                    external_url: str | None, *extra: str) -> list[str]:
    """The flags both servers share: config, storage, loopback listen address and the URL links point at."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return [binary, f"--config.file={config}", f"{storage_flag}={data_dir}", *extra,
            f"--web.listen-address={host}:{port}", f"--web.external-url={external_url or f'http://{LOOPBACK}:{port}'}"]


def prometheus_command(config: Path, data_dir: Path, port: int, *, host: str = LOOPBACK,
                       external_url: str | None = None) -> list[str]:
    """Prometheus with the lab's flags: 35-day retention and /-/reload enabled (the lab re-renders configs)."""
    return [*_server_command(prometheus_binary(), config, "--storage.tsdb.path", data_dir, port, host, external_url,
                             f"--storage.tsdb.retention.time={RETENTION}"), "--web.enable-lifecycle"]


def alertmanager_command(config: Path, data_dir: Path, port: int, *, host: str = LOOPBACK,
                         external_url: str | None = None) -> list[str]:
    """A single, non-clustered Alertmanager (``--cluster.listen-address=`` turns the gossip port off)."""
    return [*_server_command(alertmanager_binary(), config, "--storage.path", data_dir, port, host, external_url),
            "--cluster.listen-address="]


def ready_url(port: int, host: str = LOOPBACK) -> str:
    """Readiness endpoint of either server (200 once config is loaded and it serves traffic)."""
    return f"http://{host}:{port}{READY_PATH}"
