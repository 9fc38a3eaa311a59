"""The on-disk model registry: versions, the active pointer and the deployment history.

Layout under the models directory::

    v1/model.skops      the estimator, persisted with skops (safe to load, unlike pickle)
    v1/card.json        the model card
    v1/reference.csv    training sample for drift monitoring
    active.json         {"version": "v1", "since": ...} -- replaced atomically, survives restarts
    deployments.jsonl   append-only history: every deploy and rollback, who did it, from what

Reading versions, cards and the active pointer is plain JSON, so pandas, scikit-learn and skops are imported
only by the methods that need them: ``aiops-lab model list`` imported them all and took 2.5 s (6-8 s on a
learner's laptop) for a table of JSON files; without them it answers in about 0.3 s.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aiops_core.atomic import atomic_write
from aiops_core.errors import Conflict
from model_service.model_card import ModelCard

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    from model_service.training import TrainedModel

_VERSION_RE = re.compile(r"^v(\d+)$")
# Types a registry artifact may contain. Anything else is refused: a model file is code-adjacent input.
_TRUSTED_TYPES = frozenset({"sklearn.linear_model._base.LinearRegression", "numpy.dtype",
                            "numpy.ndarray", "numpy.float64", "numpy.int64"})


class RegistryError(Conflict):
    """A registry operation cannot be done; the message says what to do instead."""


def load_trusted(data: bytes, name: str = "the artifact") -> LinearRegression:
    """Deserialize skops bytes, refusing any type outside the allow-list instead of executing it.

    The same gate serves the registry's own files and artifacts uploaded through the admin API (the compose
    lab's drill engine trains on the host and pushes its candidate into the containers' registry).
    """
    import skops.io as sio
    from sklearn.linear_model import LinearRegression

    untrusted = set(sio.get_untrusted_types(data=data))
    unexpected = untrusted - _TRUSTED_TYPES
    if unexpected:
        raise RegistryError(f"{name} contains types that are not allowed: {sorted(unexpected)}; "
                            "only LinearRegression artifacts made by 'aiops-lab model train' load")
    estimator = sio.loads(data, trusted=sorted(untrusted))
    if not isinstance(estimator, LinearRegression):
        raise RegistryError(f"{name} holds a {type(estimator).__name__}, expected LinearRegression")
    return estimator


@dataclass
class LoadedModel:
    estimator: LinearRegression
    card: ModelCard


class Registry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- reading -------------------------------------------------------------------------------
    def versions(self) -> list[str]:
        """Registered versions, oldest first."""
        if not self.root.is_dir():
            return []
        found = [(int(m.group(1)), p.name) for p in self.root.iterdir()
                 if (m := _VERSION_RE.match(p.name)) and (p / "card.json").is_file()]
        return [name for _, name in sorted(found)]

    def card(self, version: str) -> ModelCard:
        path = self._version_dir(version) / "card.json"
        return ModelCard.model_validate_json(path.read_text())

    def reference(self, version: str) -> pd.DataFrame:
        import pandas as pd

        card = self.card(version)
        return pd.read_csv(self._version_dir(version) / card.reference_sample.path)

    def load(self, version: str) -> LoadedModel:
        """Load an artifact, refusing any type outside the allow-list instead of executing it."""
        path = self._version_dir(version) / "model.skops"
        try:
            estimator = load_trusted(path.read_bytes(), str(path))
            card = self.card(version)
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            # A missing or damaged file is a registry problem, not a crash (at start-up or on deploy).
            reason = " ".join(str(exc).split())[:200]
            raise RegistryError(f"model version {version} cannot be loaded ({type(exc).__name__}: {reason}); "
                                "deploy another version or retrain: aiops-lab model train") from exc
        return LoadedModel(estimator=estimator, card=card)

    def active(self) -> str | None:
        path = self.root / "active.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text())["version"]

    def history(self) -> list[dict[str, str | None]]:
        path = self.root / "deployments.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    # --- writing -------------------------------------------------------------------------------
    def register(self, trained: TrainedModel) -> str:
        """Store a trained model as the next version. Does not activate it."""
        import skops.io as sio

        self.root.mkdir(parents=True, exist_ok=True)
        while True:
            existing = [int(_VERSION_RE.match(p.name).group(1)) for p in self.root.iterdir()
                        if _VERSION_RE.match(p.name)]
            version = f"v{max(existing, default=0) + 1}"
            try:
                (self.root / version).mkdir()  # atomic: two concurrent trainers never share a version
                break
            except FileExistsError:
                continue
        vdir = self.root / version
        card = trained.card.model_copy(update={"version": version})
        sio.dump(trained.estimator, vdir / "model.skops")
        trained.reference.to_csv(vdir / card.reference_sample.path, index=False)
        atomic_write(vdir / "card.json", card.model_dump_json(indent=2), fsync=True)  # last: marks it complete
        return version

    def activate(self, version: str, actor: str = "cli", action: str = "deploy") -> str | None:
        """Point the registry at ``version``; returns the previously active version."""
        self._version_dir(version)
        previous = self.active()
        now = datetime.now(UTC).isoformat()
        atomic_write(self.root / "active.json", json.dumps({"version": version, "since": now}), fsync=True)
        entry = {"time": now, "action": action, "version": version, "previous": previous, "actor": actor}
        with (self.root / "deployments.jsonl").open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return previous

    def rollback_target(self) -> str:
        """The version that was active before the current one, following the deployment history."""
        current = self.active()
        if current is None:
            raise RegistryError("no model is active; deploy one first: aiops-lab model deploy VERSION")
        for entry in reversed(self.history()):
            if entry["version"] == current and entry["action"] == "deploy":
                if entry["previous"] == current:
                    continue  # a re-deploy of the active version changed nothing: look further back
                if entry["previous"]:
                    return entry["previous"]
                break
        raise RegistryError(f"{current} has no earlier deployment to roll back to; "
                            "deploy a specific version instead: aiops-lab model deploy VERSION")

    def _version_dir(self, version: str) -> Path:
        if not _VERSION_RE.match(version or ""):
            raise RegistryError(f"{version!r} is not a model version (expected v1, v2, ...); "
                                "see: aiops-lab model list")
        vdir = self.root / version
        if not (vdir / "card.json").is_file():
            known = ", ".join(self.versions()) or "none yet -- run: aiops-lab model train"
            raise RegistryError(f"model version {version} does not exist; registered versions: {known}")
        return vdir

