"""Generate grafana/dashboards/*.json from the feature schema and the metric definitions.

    python grafana/build_dashboards.py          # write the JSON files
    python grafana/build_dashboards.py --check  # exit 1 if the committed JSON is out of date

Edit the generator (grafana/dashgen/), not the JSON: a test fails when they disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "dashboards"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from dashgen import incident, model, service  # noqa: E402

# File name -> builder. service.json is the home dashboard (labs/stack/grafana_config.py points at it).
BUILDERS = {"service.json": service.build, "model.json": model.build, "incident.json": incident.build}
HOME_DASHBOARD = "service.json"


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def build_all() -> dict[str, str]:
    """File name -> exact file content."""
    return {name: render(build()) for name, build in BUILDERS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, content in build_all().items():
        path = OUT_DIR / name
        if args.check:
            if not path.is_file() or path.read_text() != content:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            print(f"wrote {path.relative_to(HERE.parent)}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run: python grafana/build_dashboards.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
