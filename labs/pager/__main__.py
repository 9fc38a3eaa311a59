"""``python -m labs.pager``: run the pager under uvicorn with JSON logs.

Environment: AIOPS_PAGER_HOST (127.0.0.1), AIOPS_PAGER_PORT (8002), AIOPS_PAGER_HEARTBEAT_TIMEOUT_S (120),
AIOPS_STATE_DIR (the database is <state>/pager.db unless AIOPS_PAGER_DB_PATH is set).
"""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from labs.pager.app import create_app
from labs.pager.settings import PagerSettings
from model_service.logging_setup import configure, log_config


def main() -> None:
    try:
        settings = PagerSettings()
    except (ValidationError, ValueError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else [{"loc": ("port",), "msg": str(exc)}]
        for err in errors:
            name = "AIOPS_PAGER_" + "_".join(str(p) for p in err["loc"]).upper()
            print(f"error: {name}: {err['msg']}", file=sys.stderr)
        sys.exit(2)
    configure(settings.log_level)
    app = create_app(settings.db_path, heartbeat_timeout_s=settings.heartbeat_timeout_s,
                     max_body_bytes=settings.max_body_bytes)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=log_config(settings.log_level),
                access_log=False, timeout_graceful_shutdown=10, server_header=False)


if __name__ == "__main__":
    main()
