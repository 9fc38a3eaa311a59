"""A short, bounded burst of real requests against the model service: valid, invalid and feedback.

Each call to ``send_round`` makes a fixed handful of requests, so a caller polling "until Prometheus has
the data" can never turn into an unbounded load loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from model_service import generator
from model_service.features import FEATURE_NAMES, TARGET


@dataclass
class Burst:
    client: httpx.Client
    rows: list[dict] = field(default_factory=list)
    truths: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    rounds: int = 0

    def __post_init__(self) -> None:
        frame = generator.generate(2000, seed=11, scenario_name="normal")
        self.rows = generator.records(frame)
        self.truths = [float(v) for v in frame[TARGET]]

    def send_round(self) -> None:
        """One single prediction, one batch of 5, two invalid requests, feedback for all, one unknown id."""
        i = (self.rounds * 6) % (len(self.rows) - 6)
        self.rounds += 1
        single = self.client.post("/predict", json=self.rows[i])
        batch = self.client.post("/predict", json={"instances": self.rows[i + 1:i + 6]})
        renamed = dict(self.rows[i])
        renamed["distance"] = renamed.pop(FEATURE_NAMES[0])  # a client renamed a field
        invalid = self.client.post("/predict", json=renamed)
        out_of_bounds = self.client.post("/predict", json={**self.rows[i], "items_count": -1})
        self.statuses += [single.status_code, batch.status_code, invalid.status_code, out_of_bounds.status_code]
        ids = [single.json()["prediction_id"]] + [p["prediction_id"] for p in batch.json()["predictions"]]
        for pid, truth in zip(ids, self.truths[i:i + 6], strict=True):
            self.statuses.append(self.client.post("/feedback", json={"prediction_id": pid, "actual": truth})
                                 .status_code)
        self.statuses.append(self.client.post("/feedback", json={"prediction_id": "no-such-id", "actual": 30.0})
                             .status_code)
