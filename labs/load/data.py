"""What each simulated user sends: generator rows with their ground truth, and feedback due later.

Rows come from the shared generator (``model_service.generator``), so a data profile here is exactly the
scenario the drills, the drift monitor and the curriculum talk about. Each row keeps its true label (the
real-world delivery time, even when the scenario corrupts the *features*) until its feedback is sent.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model_service.features import TARGET
from model_service.generator import SCENARIOS, generate, records

Record = dict[str, float | int | None]
DATA_PROFILES: tuple[str, ...] = tuple(SCENARIOS)


class RowSource:
    """An endless stream of (request record, true minutes) for one user, generated in chunks.

    Generating a chunk costs about as much as a few hundred requests' JSON encoding, so it happens rarely
    and never per request. Each (seed, stream, chunk) triple has its own generator seed: users never
    replay each other's rows, and a run with a fixed ``--seed`` is reproducible.
    """

    def __init__(self, scenario: str, seed: int, stream: int, chunk_size: int = 256) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown data profile {scenario!r}; choose one of: {', '.join(SCENARIOS)}")
        self.scenario = scenario
        self.seed = seed
        self.stream = stream
        self.chunk_size = chunk_size
        self._chunk = 0
        self._rows: list[Record] = []
        self._labels: list[float] = []
        self._pos = 0

    def _refill(self) -> None:
        seed = int(np.random.SeedSequence([self.seed, self.stream, self._chunk]).generate_state(1)[0])
        frame = generate(self.chunk_size, seed, self.scenario)
        self._rows = records(frame)
        self._labels = [round(float(v), 3) for v in frame[TARGET]]
        self._pos = 0
        self._chunk += 1

    def next(self) -> tuple[Record, float]:
        if self._pos >= len(self._rows):
            self._refill()
        i = self._pos
        self._pos += 1
        return self._rows[i], self._labels[i]

    def take(self, n: int) -> tuple[list[Record], list[float]]:
        pairs = [self.next() for _ in range(n)]
        return [p[0] for p in pairs], [p[1] for p in pairs]


@dataclass(frozen=True)
class PendingFeedback:
    due: float
    prediction_id: str
    actual: float


class FeedbackQueue:
    """Ground truth waiting to be reported: deliveries finish ``delay`` seconds after the prediction.

    A FIFO is a priority queue here because the delay is constant, so entries become due in the order they
    were added. Only ``ratio`` of predictions get feedback (cancelled orders never report), and the queue is
    bounded so a stalled service cannot make a load generator eat memory.
    """

    def __init__(self, delay: float, ratio: float, max_pending: int = 10_000, seed: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.delay = delay
        self.ratio = ratio
        self.max_pending = max_pending
        self.dropped = 0
        self._clock = clock
        self._rng = random.Random(seed)
        self._items: deque[PendingFeedback] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, prediction_id: str, actual: float) -> None:
        if self.ratio < 1.0 and self._rng.random() >= self.ratio:
            return
        if len(self._items) >= self.max_pending:
            self._items.popleft()
            self.dropped += 1
        self._items.append(PendingFeedback(self._clock() + self.delay, prediction_id, actual))

    def due(self, limit: int) -> list[PendingFeedback]:
        """Remove and return up to ``limit`` entries whose delivery has finished."""
        now = self._clock()
        out: list[PendingFeedback] = []
        while self._items and len(out) < limit and self._items[0].due <= now:
            out.append(self._items.popleft())
        return out
