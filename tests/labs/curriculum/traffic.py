"""Background traffic for the live curriculum tests: singles, some big batches, feedback -- bounded."""

from __future__ import annotations

import threading
import time

import httpx

from aiops_core import http as lab_http
from model_service import generator
from model_service.features import TARGET

BATCH_ROWS = 200


class Traffic:
    """Sends ~10 calls/s: singles with feedback for every other one, and a big batch every 20th call.

    With ``explanations_enabled`` a 200-row batch takes ~0.6 s or more on any machine: the slow requests a
    latency SLI needs, without making every request slow.

    Bounded in count and time: it stops at ``max_requests`` or ``max_seconds`` even if nobody stops it.
    """

    def __init__(self, base_url: str, max_seconds: float = 240.0, max_requests: int = 6000, seed: int = 5) -> None:
        self.base_url = base_url
        self.max_seconds = max_seconds
        self.max_requests = max_requests
        frame = generator.generate(2000, seed)
        self.records = generator.records(frame)
        self.actual = frame[TARGET].tolist()
        self.sent = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="curriculum-traffic", daemon=True)

    def start(self) -> Traffic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        with lab_http.new_client(base_url=self.base_url, timeout=10.0) as client:
            i = 0
            while not self._stop.is_set() and time.monotonic() < deadline and self.sent < self.max_requests:
                i += 1
                row = i % len(self.records)
                try:
                    if i % 20 == 0:
                        client.post("/predict", json={"instances": self.records[row:row + BATCH_ROWS]})
                    else:
                        resp = client.post("/predict", json=self.records[row])
                        if resp.status_code == 200 and i % 2 == 0:
                            client.post("/feedback", json={"prediction_id": resp.json()["prediction_id"],
                                                           "actual": self.actual[row]})
                except httpx.HTTPError:
                    self.errors += 1
                self.sent += 1
                self._stop.wait(0.06)
