"""The models a drill releases (a bad candidate, stale old versions), built once per machine and reused.

Training one takes a second on a quiet machine, but importing scikit-learn and skops to do it takes two
more, and on a busy laptop (two CPU hogs) the whole thing took most of a minute of ``drill start``. The
candidates are deterministic -- same code, same library versions, same seed, same rows -- so the upload
body (``POST /admin/model/upload``: card, skops artifact, reference sample) is cached under
``paths.cache_dir()``, keyed by all of that, and a cache hit needs neither library. What varies per run
(the stale versions' age) is set on the cached card when it is sent.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from aiops_core import paths
from aiops_core.atomic import atomic_write

TRAINING_ROWS = 5000  # enough for a believable candidate, fast enough (~1 s) for a drill start
# The code a candidate is a function of: change one of these and every cached candidate is rebuilt.
_SOURCES = ("model_service/training.py", "model_service/generator.py", "model_service/features.py",
            "model_service/model_card.py", "model_service/model_upload.py", "labs/drills/candidates.py")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for rel in _SOURCES:
        digest.update((paths.REPO_ROOT / rel).read_bytes())
    for dist in ("scikit-learn", "skops", "numpy", "pandas"):
        digest.update(f"{dist}=={metadata.version(dist)}".encode())
    return digest.hexdigest()[:16]


def _path(spec: dict[str, Any]) -> Path:
    key = hashlib.sha256(json.dumps({"code": _fingerprint(), **spec}, sort_keys=True).encode()).hexdigest()[:20]
    return paths.cache_dir() / "candidates" / f"{key}.json"


def _build(spec: dict[str, Any]) -> dict[str, Any]:
    from model_service import training  # pandas + scikit-learn: only on a cache miss
    from model_service.model_upload import encode

    trained = training.train(rows=TRAINING_ROWS, seed=spec["seed"], corruption=spec.get("corruption"),
                             description=spec["description"])
    # A real bad release does not confess: its card carries the release note, not the corruption. The
    # evidence a learner can find stays honest (holdout/golden metrics computed on clean data).
    trained.card = trained.card.model_copy(update={"corruption": None})
    return encode(trained)


def upload_body(seed: int, description: str, corruption: str | None = None,
                created_at: datetime | None = None) -> dict[str, Any]:
    """The upload body of a candidate trained on ``TRAINING_ROWS`` generated rows (cached)."""
    spec = {"seed": seed, "description": description, "corruption": corruption, "rows": TRAINING_ROWS}
    path = _path(spec)
    try:
        body = json.loads(path.read_text())
    except (OSError, ValueError):
        body = _build(spec)
        atomic_write(path, json.dumps(body))
    # Released now (a cached card says when the cache was filled), or as old as the drill says.
    body["card"]["created_at"] = (created_at or datetime.now(UTC)).isoformat()
    return body


def prepare(specs: list[dict[str, Any]]) -> None:
    """Build whatever is not cached yet (``drill start`` calls it while the traffic warms up)."""
    for spec in specs:
        upload_body(**spec)
