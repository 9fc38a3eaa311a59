#!/opt/venv/bin/python
"""``healthcheck [URL]``: exit 0 when URL answers 2xx within 3 s, else 1 -- the containers' HEALTHCHECK.

Why a script: the slim Python image has neither curl nor wget, and installing one only for health probes
would add a package (and its CVEs) to every container. The standard library is enough. Without an
argument it probes the model service's readiness on AIOPS_PORT (default 8000), the image's default command.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else f"http://127.0.0.1:{os.environ.get('AIOPS_PORT', '8000')}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return 0 if 200 <= resp.status < 300 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
