"""``python -m model_service``: run the service under uvicorn with the lab's settings and JSON logs."""

from __future__ import annotations

import uvicorn

from model_service.logging_setup import configure, log_config
from model_service.settings import Settings


def main() -> None:
    settings = Settings()
    configure(settings.log_level)
    uvicorn.run(
        "model_service.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=log_config(settings.log_level),
        access_log=False,  # the service writes its own structured access log
        timeout_graceful_shutdown=15,
        server_header=False,
    )


if __name__ == "__main__":
    main()
