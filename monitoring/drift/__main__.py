"""``python -m monitoring.drift``: serve the drift monitor (settings from ``AIOPS_DRIFT_*``, see settings.py).

The HTTP server answers at once; Evidently is imported by the first run, in the background thread.
"""

from __future__ import annotations

import sys

from monitoring.drift.config import DriftConfig, DriftConfigError, load
from monitoring.drift.settings import DriftSettings, SettingsError


def serve(settings: DriftSettings, config: DriftConfig | None = None, first_run_delay_s: float = 1.0) -> None:
    """Run the monitor loop and the HTTP server until SIGINT/SIGTERM."""
    from aiops_core.logging_setup import configure
    from aiops_core.settings import serve as run_app
    from monitoring.drift import exporter
    from monitoring.drift.monitor import Monitor
    from monitoring.drift.server import create_app

    configure("info")
    monitor = Monitor(settings, config)
    exporter.publish_no_verdict()
    exporter.restore_last_success(monitor.reports.newest())
    monitor.start(first_run_delay_s=first_run_delay_s)
    try:
        run_app(create_app(monitor), host=settings.host, port=settings.port, log_level="info", grace_s=5)
    finally:
        monitor.stop()


def main() -> None:
    try:
        settings = DriftSettings.from_env()
        config = load(settings.config_path)  # fail fast, before binding the port
    except (SettingsError, DriftConfigError) as exc:
        print(f"drift monitor: {exc}", file=sys.stderr)
        sys.exit(2)
    serve(settings, config)


if __name__ == "__main__":
    main()
