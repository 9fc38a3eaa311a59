"""Render the Prometheus/Alertmanager configs the compose stack mounts: one directory per lab mode.

Why committed, generated files: ``docker compose up`` has no Python step to render configs at start-up,
so the effective files must exist in the repository. They are produced by the same renderer the native
launcher uses (monitoring/render.py) from the same hand-written sources, with the compose service DNS
names as targets, and a test fails when a committed file differs from a fresh render -- the rendered
copies can never drift from the source rules.

    .venv/bin/python -m monitoring.compose.generate     # after editing monitoring/prometheus or alertmanager
"""

from __future__ import annotations

import sys
from pathlib import Path

from aiops_core.topology import BY_NAME, PAGER
from monitoring import render
from monitoring.render import MODES

COMPOSE_DIR = Path(__file__).resolve().parent
CONTAINER_CONFIG_DIRS = {"prometheus": "/etc/prometheus", "alertmanager": "/etc/alertmanager"}
# Where the Alertmanager container reads the pager's bearer token: docker-compose.yml's secret
# aiops_admin_token (made from AIOPS_ADMIN_TOKEN in .env), at Docker's default secrets path.
CONTAINER_TOKEN_FILE = "/run/secrets/aiops_admin_token"


def compose_targets() -> dict[str, str]:
    """Every scrape job at ``<service>:<port>``: compose service names are the topology's component names."""
    return {job: f"{job}:{BY_NAME[job].default_port}" for job in render.JOBS}


def pager_url() -> str:
    return f"http://{PAGER.name}:{PAGER.default_port}"


def generate(out_root: Path = COMPOSE_DIR) -> list[render.Rendered]:
    """Write ``<out_root>/<mode>/{prometheus.yml,alertmanager.yml,rules/}`` for every mode."""
    return [render.render(out_root / mode, targets=compose_targets(), pager_url=pager_url(), lab_mode=mode == "lab",
                          pager_credentials_file=CONTAINER_TOKEN_FILE)
            for mode in MODES]


def main() -> int:
    for done in generate():
        print(f"wrote {done.out_dir.relative_to(COMPOSE_DIR.parent.parent)}/ (speedup {done.speedup})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
