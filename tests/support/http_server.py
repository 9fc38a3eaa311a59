"""A tiny real HTTP server in a thread, for code that talks HTTP to something the test controls."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free loopback port; yields the base URL, shuts down after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        if thread.is_alive():  # shutdown() would wait forever for a serve loop that is gone
            server.shutdown()
        server.server_close()
        thread.join(5)


def directory_handler(root: Path) -> type[BaseHTTPRequestHandler]:
    """A handler serving the files under ``root`` (a written report, opened by a browser over http, where a
    ``file://`` URL would hide which requests the page makes)."""

    class Files(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Files
