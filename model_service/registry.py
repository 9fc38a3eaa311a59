"""The on-disk model registry: versions, the active pointer and the deployment history.

Layout under the models directory::

    v1/model.skops      the estimator, persisted with skops (safe to load, unlike pickle)
    v1/card.json        the model card (with the artifact's sha256)
    v1/reference.csv    training sample for drift monitoring
    active.json         {"version": "v1", "since": ...} -- replaced atomically, survives restarts
    deployments.jsonl   append-only history: every deploy and rollback, who did it, from what

Reading versions, cards and the active pointer is plain JSON, so pandas, scikit-learn and skops are imported
only by the methods that need them: ``aiops-lab model list`` imported them all and took 2.5 s (6-8 s on a
learner's laptop) for a table of JSON files; without them it answers in about 0.3 s.

Integrity (issue 14: a truncated ``active.json`` broke the service, the drift monitor and every ``model``
command with a bare ``JSONDecodeError``). Every file is written atomically, so a crash leaves the old file or
the new one; a full disk, a bad copy or a stray edit still can damage one, so readers check what they read
(``registry_files``) and name the file and the way out. ``active.json`` is redundant with the history
(``activate`` writes the pointer first, the history entry second, so the last entry names what the pointer
held): ``registry_repair`` rebuilds it from there, and ``activate`` never reads it, so ``model deploy`` is
a repair path too. A torn last history line (a crash during an append) is skipped by readers, and the next
append starts a line of its own instead of gluing itself to the fragment.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiops_core.atomic import atomic_write
from aiops_core.errors import Conflict
from model_service.linear_artifact import LinearParams, read_linear
from model_service.model_card import ModelCard
from model_service.registry_files import (
    ARTIFACT,
    CARD,
    HISTORY,
    POINTER,
    VERSION_RE,
    DamagedFile,
    artifact_digest,
    digest_problem,
    parse_pointer,
    read,
    read_card,
    reason,
    zip_problem,
)

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    from model_service.training import TrainedModel

# Types a registry artifact may contain. Anything else is refused: a model file is code-adjacent input.
_TRUSTED_TYPES = frozenset({"sklearn.linear_model._base.LinearRegression", "numpy.dtype",
                            "numpy.ndarray", "numpy.float64", "numpy.int64"})
REPAIR_POINTER = ("repair it from the deployment history: aiops-lab model repair (or activate a version "
                  "directly: aiops-lab model deploy VERSION)")
REPLACE_VERSION = ("deploy another version (see: aiops-lab model list) or train one: "
                   "aiops-lab model train --deploy")


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
    """A version as the service serves it: its card and coefficients, read without scikit-learn.

    ``estimator`` deserializes the full ``LinearRegression`` with skops on first use (tests compare the
    serving path against its ``predict``); the service itself never asks for it.
    """

    card: ModelCard
    params: LinearParams
    artifact: bytes = field(repr=False)
    name: str = "the artifact"
    _estimator: LinearRegression | None = field(default=None, repr=False)

    @property
    def estimator(self) -> LinearRegression:
        if self._estimator is None:
            self._estimator = load_trusted(self.artifact, self.name)
        return self._estimator


_NA_CELLS = frozenset({"", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "null", "NULL", "None", "<NA>",
                        "#N/A"})


def _cell(text: str) -> float:
    return float("nan") if text.strip() in _NA_CELLS else float(text)


def _params_of(estimator: LinearRegression) -> LinearParams:
    """The serving parameters of an estimator skops loaded (the fallback of ``read_linear``)."""
    coef, intercept = estimator.coef_, estimator.intercept_
    if getattr(coef, "ndim", None) != 1 or getattr(intercept, "ndim", 0) != 0:
        raise RegistryError("the artifact is a multi-output LinearRegression; the service serves one target")
    return LinearParams(coefficients=tuple(float(c) for c in coef), intercept=float(intercept),
                        n_features=int(estimator.n_features_in_))


class Registry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- reading -------------------------------------------------------------------------------
    def versions(self) -> list[str]:
        """Registered versions, oldest first."""
        if not self.root.is_dir():
            return []
        found = [(int(m.group(1)), p.name) for p in self.root.iterdir()
                 if (m := VERSION_RE.match(p.name)) and (p / CARD).is_file()]
        return [name for _, name in sorted(found)]

    def card(self, version: str) -> ModelCard:
        try:
            return read_card(self._version_dir(version) / CARD)
        except DamagedFile as exc:
            raise RegistryError(f"{exc}; {REPLACE_VERSION}") from None

    def reference(self, version: str) -> pd.DataFrame:
        import pandas as pd

        path = self._version_dir(version) / self.card(version).reference_sample.path
        try:
            return pd.read_csv(path)
        except (OSError, ValueError) as exc:  # missing, empty or not a CSV
            raise RegistryError(f"model version {version} cannot be loaded ({path}: {reason(exc)}); "
                                f"{REPLACE_VERSION}") from None

    def reference_head(self, version: str, columns: Sequence[str], rows: int) -> list[list[float]]:
        """The first ``rows`` rows of ``columns`` of the reference sample, read with the csv module.

        The service's explainer needs only these, and reading them with pandas made the service import it
        (~0.35 CPU-s of its start-up). Empty and NA cells are NaN, as pandas reads them.
        """
        path = self._version_dir(version) / self.card(version).reference_sample.path
        try:
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                header = next(reader)
                index = [header.index(c) for c in columns]
                out = [[_cell(row[i]) for i in index] for row in itertools.islice(reader, rows)]
        except StopIteration:
            why = "empty"
        except (OSError, ValueError, IndexError, UnicodeDecodeError) as exc:  # missing file or column, bad cell
            why = reason(exc)
        else:
            return out
        raise RegistryError(f"model version {version} cannot be loaded ({path}: {why}); {REPLACE_VERSION}")

    def problem(self, version: str) -> str | None:
        """What makes a registered version unusable, found without deserializing it (no ML imports), or None."""
        vdir = self._version_dir(version)
        try:
            card = read_card(vdir / CARD)
            data = read(vdir / ARTIFACT)
        except DamagedFile as exc:
            return str(exc)
        why = zip_problem(data) or digest_problem(data, card)
        if why is not None:
            return f"{vdir / ARTIFACT} is corrupt ({why})"
        reference = vdir / card.reference_sample.path
        if not reference.is_file() or reference.stat().st_size == 0:
            return f"{reference} is missing or empty"
        return None

    def verify(self, version: str) -> None:
        """``RegistryError`` naming the damaged file when ``version`` cannot be served."""
        problem = self.problem(version)
        if problem is not None:
            raise RegistryError(f"model version {version} cannot be loaded ({problem}); {REPLACE_VERSION}")

    def load(self, version: str) -> LoadedModel:
        """Load an artifact, refusing any type outside the allow-list instead of executing it."""
        vdir = self._version_dir(version)
        path = vdir / ARTIFACT
        try:
            card = read_card(vdir / CARD)
            data = read(path)
            if (why := zip_problem(data)) is not None:
                raise DamagedFile(f"{path} is corrupt ({why})")
            # The fast path reads a plain LinearRegression's arrays without scikit-learn (linear_artifact);
            # anything else goes through skops' type gate, which names disallowed types (RegistryError).
            estimator = None
            params = read_linear(data)
            if params is None:
                estimator = load_trusted(data, str(path))
                params = _params_of(estimator)
            if (why := digest_problem(data, card)) is not None:  # after the type gate: it names what is wrong
                raise DamagedFile(f"{path} is corrupt ({why})")
        except DamagedFile as exc:
            raise RegistryError(f"model version {version} cannot be loaded ({exc}); {REPLACE_VERSION}") from None
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:  # skops on odd content
            raise RegistryError(f"model version {version} cannot be loaded ({path}: {reason(exc)}); "
                                f"{REPLACE_VERSION}") from None
        return LoadedModel(card=card, params=params, artifact=data, name=str(path), _estimator=estimator)

    def active(self) -> str | None:
        """The active version, None when nothing was ever activated; a pointer that cannot be read is a
        ``RegistryError`` naming the file and the repair."""
        path = self.root / POINTER
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RegistryError(f"the active-model pointer {path} cannot be read ({reason(exc)}); "
                                "check its permissions and the disk") from None
        try:
            return parse_pointer(raw)
        except ValueError as exc:
            raise RegistryError(f"the active-model pointer {path} is corrupt ({' '.join(str(exc).split())}), "
                                f"so which version is active is unknown; {REPAIR_POINTER}") from None

    def history(self) -> list[dict[str, Any]]:
        """Deployments, oldest first; unreadable lines (a torn last append) are left out (``repair`` drops them)."""
        return self.read_history()[0]

    def read_history(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The readable entries, and the numbers (from 1) of the lines that are not."""
        path = self.root / HISTORY
        if not path.is_file():
            return [], []
        entries, bad = [], []
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError):
                entry = None
            if isinstance(entry, dict) and isinstance(entry.get("version"), str) and "action" in entry:
                entries.append(entry)
            else:
                bad.append(number)
        return entries, bad

    def last_deployed(self) -> str | None:
        """The version the last history entry activated: what ``active.json`` holds unless it was damaged."""
        entries = self.history()
        return entries[-1]["version"] if entries else None

    # --- writing -------------------------------------------------------------------------------
    def register(self, trained: TrainedModel) -> str:
        """Store a trained model as the next version. Does not activate it."""
        import skops.io as sio

        self.root.mkdir(parents=True, exist_ok=True)
        while True:
            existing = [int(VERSION_RE.match(p.name).group(1)) for p in self.root.iterdir()
                        if VERSION_RE.match(p.name)]
            version = f"v{max(existing, default=0) + 1}"
            try:
                (self.root / version).mkdir()  # atomic: two concurrent trainers never share a version
                break
            except FileExistsError:
                continue
        vdir = self.root / version
        data = sio.dumps(trained.estimator)
        card = trained.card.model_copy(update={"version": version, "artifact_sha256": artifact_digest(data)})
        atomic_write(vdir / ARTIFACT, data, fsync=True)
        atomic_write(vdir / card.reference_sample.path, trained.reference.to_csv(index=False), fsync=True)
        atomic_write(vdir / CARD, card.model_dump_json(indent=2), fsync=True)  # last: marks it complete
        return version

    def activate(self, version: str, actor: str = "cli", action: str = "deploy", forced: bool = False) -> str | None:
        """Point the registry at ``version``; returns the previously active version.

        Never needs a readable pointer: a corrupt one is replaced, and the version it held is the history's."""
        self._version_dir(version)
        try:
            previous = self.active()
        except RegistryError:
            previous = self.last_deployed()
        now = datetime.now(UTC).isoformat()
        atomic_write(self.root / POINTER, json.dumps({"version": version, "since": now}), fsync=True)
        entry: dict[str, Any] = {"time": now, "action": action, "version": version, "previous": previous,
                                 "actor": actor}
        if forced:
            entry["forced"] = True  # past the promotion gate (model_service.promotion)
        self._append_history(entry)
        return previous

    def _append_history(self, entry: dict[str, Any]) -> None:
        path = self.root / HISTORY
        with path.open("ab+") as fh:  # appends always go to the end; "+" lets it read the last byte first
            size = fh.seek(0, os.SEEK_END)
            torn = False
            if size:
                fh.seek(size - 1)
                torn = fh.read(1) != b"\n"
            fh.write((b"\n" if torn else b"") + json.dumps(entry).encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())

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
        damaged = self.problem(current) if current in self.versions() else None
        why = f" ({current} cannot be served: {damaged})" if damaged else ""
        raise RegistryError(f"{current} has no earlier deployment to roll back to{why}; "
                            "deploy a specific version instead: aiops-lab model deploy VERSION "
                            "(see: aiops-lab model list)")

    def _version_dir(self, version: str) -> Path:
        if not VERSION_RE.match(version or ""):
            raise RegistryError(f"{version!r} is not a model version (expected v1, v2, ...); "
                                "see: aiops-lab model list")
        vdir = self.root / version
        if not (vdir / CARD).is_file():
            known = ", ".join(self.versions()) or "none yet -- run: aiops-lab model train"
            raise RegistryError(f"model version {version} does not exist; registered versions: {known}")
        return vdir
