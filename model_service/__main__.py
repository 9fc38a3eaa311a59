"""``python -m model_service``: run the service under uvicorn with the lab's settings and JSON logs."""

from __future__ import annotations

from aiops_core.settings import load_or_exit, serve
from model_service.settings import Settings


def main() -> None:
    settings = load_or_exit(Settings, "model service")  # fail fast, before the app factory runs
    serve("model_service.app:create_app", factory=True, host=settings.host, port=settings.port,
          log_level=settings.log_level, grace_s=15)


if __name__ == "__main__":
    main()
