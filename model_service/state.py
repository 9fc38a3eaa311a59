"""Process-wide service state: the settings, the active model, the log, the flags."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field

import numpy as np

from model_service import metrics
from model_service.feature_lookup import TrafficFeedClient
from model_service.prediction_log import PredictionLog
from model_service.predictor import ServingModel, load_active
from model_service.registry import Registry
from model_service.runtime_config import ConfigStore
from model_service.settings import Settings

log = logging.getLogger("aiops.service")


class IdGenerator:
    """Prediction (and request) ids: a random per-process prefix plus a counter -- unique across restarts, and
    much cheaper than uuid4 on the hot path.

    The counter starts at ``FIRST`` (0x10000000), so it is written with eight hex digits and one process's
    ids sort in the order they were made (issue 18: an index on ids then only appends; from 1, "-1000" sorted
    between "-100" and "-101" and each commit dirtied index pages all over the file, benchmarks/PROFILE.md
    round 4). The prediction log stores a request's ids as ``prefix`` and the first counter (``reserve``).
    Starting high instead of zero-padding ``%08x``: the same ids' width, a third cheaper to format.
    """

    FIRST = 0x10000000

    def __init__(self) -> None:
        self.prefix = "p" + secrets.token_hex(5) + "-"
        self._template = self.prefix + "%x"
        self._lock = threading.Lock()
        self._next = self.FIRST

    def next(self) -> str:
        with self._lock:
            n = self._next
            self._next = n + 1
        return self._template % n

    def take(self, n: int) -> list[str]:
        """``n`` consecutive ids for one batch (one reservation instead of ``n`` calls)."""
        first = self.reserve(n)
        template = self._template  # a quarter cheaper than an f-string per id
        return [template % i for i in range(first, first + n)]

    def reserve(self, n: int) -> int:
        """The counter of the first of ``n`` consecutive ids: ``prefix + "%x" % (first + i)``. /predict writes
        them straight into its answer and the prediction log stores them as ``prefix`` and ``first``, so a batch
        never makes an id string per row."""
        with self._lock:
            first = self._next
            self._next += n
        return first


@dataclass
class ServiceState:
    settings: Settings
    registry: Registry
    log: PredictionLog
    config: ConfigStore
    feed: TrafficFeedClient
    model: ServingModel | None = None
    ids: IdGenerator = field(default_factory=IdGenerator)
    leaked: list[bytearray] = field(default_factory=list)  # the memory-leak flag's "cache"
    background: np.ndarray | None = None  # explainer background rows
    model_error: str | None = None  # why no model is loaded (the damaged file), for /readyz and /model

    def load_model(self, version: str | None = None) -> ServingModel:
        from model_service.features import FEATURE_NAMES

        # Everything that can fail is read before load_active() publishes the new model's identity, so a
        # failed deploy never leaves aiops_model_info naming a model that is not serving.
        try:
            head = self.registry.reference_head(version or self.registry.active() or "", FEATURE_NAMES, 200)
            background = np.array(head, dtype=float).reshape(-1, len(FEATURE_NAMES))
            model = load_active(self.registry, version)
        except Exception as exc:
            if self.model is None:  # a failed hot swap keeps serving the old model: nothing to report
                self.model_error = " ".join(str(exc).split())
            raise
        self.model_error = None
        self.background = background
        self.model = model
        log.info("model loaded", extra={"model_version": model.version})
        return model

    def publish_flags(self) -> None:
        """Export the flags after a change; a circuit breaker just switched off is closed at once, so its
        gauge does not read "open" until the next lookup."""
        for name, value in self.config.current.numeric().items():
            metrics.CONFIG_FLAG.labels(name).set(value)
        if not self.config.current.traffic_feed_breaker_enabled:
            self.feed.breaker.reset()
