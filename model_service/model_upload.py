"""Turn an uploaded version (``POST /admin/model/upload``) into a registry entry, or say which part is wrong.

Why an upload at all: in the compose lab the registry is a Docker volume the host cannot write, yet the
drill engine (on the host) must ship a "routine release" into it, and a learner may want to push a model
trained elsewhere. The artifact is untrusted input, so it goes through the registry's skops allow-list, the
card must describe the lab's feature schema, and the estimator must fit it -- before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import io
import zipfile
from typing import TYPE_CHECKING

import numpy as np
from pydantic import ValidationError

from model_service.features import FEATURE_NAMES, TARGET
from model_service.model_card import ModelCard
from model_service.registry import Registry, RegistryError, load_trusted
from model_service.schemas import ModelUpload

if TYPE_CHECKING:
    import pandas as pd

    from model_service.training import TrainedModel


class UploadError(ValueError):
    """One part of the upload is unusable; ``field`` names it for the 422 answer."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _artifact(upload: ModelUpload) -> object:
    try:
        data = base64.b64decode(upload.model_skops_b64, validate=True)
    except (binascii.Error, ValueError):
        raise UploadError("model_skops_b64", "not valid base64") from None
    try:
        estimator = load_trusted(data, "the uploaded artifact")
    except RegistryError as exc:
        raise UploadError("model_skops_b64", str(exc)) from None
    except (zipfile.BadZipFile, ValueError, TypeError, KeyError, OSError) as exc:
        raise UploadError("model_skops_b64", f"not a skops file ({type(exc).__name__})") from None
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features != len(FEATURE_NAMES) or not np.all(np.isfinite(getattr(estimator, "coef_", [np.nan]))):
        raise UploadError("model_skops_b64", f"the estimator must be fitted on the {len(FEATURE_NAMES)} features "
                          f"{', '.join(FEATURE_NAMES)} with finite coefficients")
    return estimator


def _card(upload: ModelUpload) -> ModelCard:
    try:
        card = ModelCard.model_validate({**upload.card, "version": "unregistered"})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UploadError(f"card.{where}", first["msg"]) from None
    names = [str(f.get("name")) for f in card.feature_schema]
    if names != list(FEATURE_NAMES) or set(card.feature_ranges) != set(FEATURE_NAMES):
        raise UploadError("card.feature_schema", f"the card describes features {names}; this service serves "
                          f"{list(FEATURE_NAMES)}")
    return card


def _reference(upload: ModelUpload) -> pd.DataFrame:
    import pandas as pd  # here, not at import: the service starts without pandas

    try:
        frame = pd.read_csv(io.StringIO(upload.reference_csv))
    except (ValueError, pd.errors.ParserError) as exc:
        raise UploadError("reference_csv", f"not a CSV ({' '.join(str(exc).split())[:120]})") from None
    missing = [c for c in (*FEATURE_NAMES, TARGET) if c not in frame.columns]
    if missing:
        raise UploadError("reference_csv", f"lacks columns: {', '.join(missing)}")
    if len(frame) < 50:
        raise UploadError("reference_csv", f"has {len(frame)} rows; the drift monitor needs at least 50")
    return frame


def register_upload(registry: Registry, upload: ModelUpload) -> str:
    """Validate every part, then register (not activate) the version; returns its name."""
    from model_service.training import TrainedModel  # scikit-learn, only when a model is uploaded

    estimator = _artifact(upload)
    card = _card(upload)
    reference = _reference(upload)
    card = card.model_copy(update={"reference_sample": card.reference_sample.model_copy(
        update={"rows": len(reference)})})
    return registry.register(TrainedModel(estimator=estimator, card=card, reference=reference))  # type: ignore[arg-type]


def encode(trained: TrainedModel) -> dict[str, object]:
    """The upload body for a freshly trained model (what ``register_upload`` accepts)."""
    import skops.io as sio

    return {"card": trained.card.model_dump(mode="json"),
            "model_skops_b64": base64.b64encode(sio.dumps(trained.estimator)).decode(),
            "reference_csv": trained.reference.to_csv(index=False)}
