"""Where the lab keeps its files: the repository (configs) and the state directory (data).

The state directory holds everything a running lab writes -- model registry, prediction log, Prometheus
TSDB, reports, drill journals -- so ``aiops-lab down --reset`` can wipe a lab without touching the repo.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    """``AIOPS_STATE_DIR`` if set, else ``.lab/`` in the repository."""
    raw = os.environ.get("AIOPS_STATE_DIR")
    return Path(raw).expanduser().resolve() if raw else REPO_ROOT / ".lab"


def models_dir() -> Path:
    raw = os.environ.get("AIOPS_MODELS_DIR")
    return Path(raw).expanduser().resolve() if raw else state_dir() / "models"


def reports_dir() -> Path:
    raw = os.environ.get("AIOPS_REPORTS_DIR")
    return Path(raw).expanduser().resolve() if raw else state_dir() / "reports"


def dashboards_source_dir() -> Path:
    """The Grafana dashboards' JSON: the one definition Grafana, the renderer and the tests read."""
    return REPO_ROOT / "grafana" / "dashboards"


def rendered_dashboards_dir() -> Path:
    """Where ``aiops-lab dashboard render`` writes ``<name>.html`` unless told otherwise; the pager serves it."""
    return reports_dir() / "dashboards"


def prediction_log_path() -> Path:
    raw = os.environ.get("AIOPS_PREDICTION_LOG")
    return Path(raw).expanduser().resolve() if raw else state_dir() / "predictions.db"


def user_drill_dirs() -> list[Path]:
    """``AIOPS_DRILLS_PATH``: directories (``os.pathsep``-separated, like ``PATH``) holding the user's own
    drill files, listed beside the shipped catalogue. Empty entries are skipped; order is kept (it says which
    file is reported first when two directories hold the same drill id)."""
    raw = os.environ.get("AIOPS_DRILLS_PATH", "")
    dirs = [Path(part).expanduser().resolve() for part in raw.split(os.pathsep) if part.strip()]
    return list(dict.fromkeys(dirs))  # a directory named twice holds its drills once


def cache_dir() -> Path:
    """``AIOPS_CACHE_DIR``, else ``$XDG_CACHE_HOME/aiops-lab`` (``~/.cache/aiops-lab``): things that are
    expensive to build and the same for every lab on the machine (the drills' candidate models)."""
    raw = os.environ.get("AIOPS_CACHE_DIR")
    if raw:
        return Path(raw).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "aiops-lab"


def admin_token_path(state: Path | None = None) -> Path:
    """The admin API's bearer token, written (mode 0600) by ``aiops-lab up`` for the other terminals."""
    return (state or state_dir()) / "admin-token"
