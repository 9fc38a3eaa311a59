"""``python -m labs.traffic_feed``: run the traffic feed under uvicorn with JSON logs.

Environment: AIOPS_TRAFFIC_FEED_HOST (127.0.0.1), AIOPS_TRAFFIC_FEED_PORT (8003), AIOPS_STATE_DIR (the
drill engine's fault file is <state>/drills/traffic-feed-fault.json unless AIOPS_TRAFFIC_FEED_FAULT_FILE
is set), AIOPS_TRAFFIC_FEED_CONTROL_TOKEN (unset: the control API is off; compose sets it).
"""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import ValidationError

from labs.traffic_feed.app import create_app
from labs.traffic_feed.settings import FeedSettings
from model_service.logging_setup import configure, log_config


def main() -> None:
    try:
        settings = FeedSettings()
    except (ValidationError, ValueError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else [{"loc": ("port",), "msg": str(exc)}]
        for err in errors:
            name = "AIOPS_TRAFFIC_FEED_" + "_".join(str(p) for p in err["loc"]).upper()
            print(f"error: {name}: {err['msg']}", file=sys.stderr)
        sys.exit(2)
    configure(settings.log_level)
    logging.getLogger("aiops.traffic_feed").info(
        "traffic feed starting", extra={"port": settings.port, "fault_file": str(settings.fault_file)})
    app = create_app(settings.fault_file, settings.max_body_bytes, settings.control_token or None)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=log_config(settings.log_level),
                access_log=False, timeout_graceful_shutdown=5, server_header=False)


if __name__ == "__main__":
    main()
