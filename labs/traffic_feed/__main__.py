"""``python -m labs.traffic_feed``: run the traffic feed under uvicorn with JSON logs.

Environment: AIOPS_TRAFFIC_FEED_HOST (127.0.0.1), AIOPS_TRAFFIC_FEED_PORT (8003), AIOPS_STATE_DIR (the
drill engine's fault file is <state>/drills/traffic-feed-fault.json unless AIOPS_TRAFFIC_FEED_FAULT_FILE
is set), AIOPS_TRAFFIC_FEED_CONTROL_TOKEN (unset: the control API is off; compose sets it).
"""

from __future__ import annotations

import logging

from aiops_core.logging_setup import configure
from aiops_core.settings import load_or_exit, serve
from labs.traffic_feed.app import create_app
from labs.traffic_feed.settings import FeedSettings


def main() -> None:
    settings = load_or_exit(FeedSettings, "traffic feed")
    configure(settings.log_level)
    logging.getLogger("aiops.traffic_feed").info(
        "traffic feed starting", extra={"port": settings.port, "fault_file": str(settings.fault_file)})
    app = create_app(settings.fault_file, settings.max_body_bytes, settings.control_token or None)
    serve(app, host=settings.host, port=settings.port, log_level=settings.log_level, grace_s=5)


if __name__ == "__main__":
    main()
