"""``python -m labs.pager``: run the pager under uvicorn with JSON logs.

Environment: AIOPS_PAGER_HOST (127.0.0.1), AIOPS_PAGER_PORT (8002), AIOPS_PAGER_HEARTBEAT_TIMEOUT_S (120; 30
with AIOPS_LAB_MODE=lab), AIOPS_STATE_DIR (the database is <state>/pager.db unless AIOPS_PAGER_DB_PATH is set),
AIOPS_ADMIN_TOKEN (the token every POST must carry; default: <state>/admin-token).
"""

from __future__ import annotations

from aiops_core.settings import load_or_exit, serve
from labs.pager.app import create_app
from labs.pager.settings import PagerSettings


def main() -> None:
    settings = load_or_exit(PagerSettings, "pager")
    app = create_app(settings.db_path, heartbeat_timeout_s=settings.heartbeat_timeout_s,
                     max_body_bytes=settings.max_body_bytes, token=settings.token)
    serve(app, host=settings.host, port=settings.port, log_level=settings.log_level, grace_s=10)


if __name__ == "__main__":
    main()
