"""Concurrent clients posting predictions until the service goes away: the load under which the prediction log's
promises are checked (a signal, a kill, its file deleted). Every acknowledged prediction id is recorded."""

from __future__ import annotations

import threading

import httpx

from aiops_core import http as lab_http
from aiops_core.polling import wait_until

RECORD = {"distance_km": 3.5, "items_count": 2, "is_peak_hour": 1, "traffic_index": 4.0,
          "courier_experience_months": 12.0}
MAX_REQUESTS_PER_CLIENT = 600  # every load loop is bounded


class Burst:
    """Concurrent clients posting single rows and small batches until the service goes away."""

    def __init__(self, url: str, clients: int) -> None:
        self.url = url
        self.acked: list[str] = []
        self.refused: list[int] = []  # status codes of answers other than 200
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]

    def _run(self, worker: int) -> None:
        with lab_http.new_client(base_url=self.url, timeout=20.0) as client:
            for i in range(MAX_REQUESTS_PER_CLIENT):
                batch = i % 3 == 2
                try:
                    resp = client.post("/predict", json={"instances": [RECORD] * 5} if batch else RECORD)
                except httpx.HTTPError:
                    return  # the service is gone: unacknowledged, so no promise
                if resp.status_code != 200:
                    with self._lock:
                        self.refused.append(resp.status_code)
                    continue
                body = resp.json()
                ids = [p["prediction_id"] for p in body["predictions"]] if batch else [body["prediction_id"]]
                with self._lock:
                    self.acked.extend(ids)

    def __enter__(self) -> Burst:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for t in self._threads:
            t.join(60)
        assert not any(t.is_alive() for t in self._threads)

    def wait_for(self, n: int) -> None:
        wait_until(lambda: len(self.acked) >= n, timeout=60, what=f"{n} acknowledged predictions")
