"""The drill's background traffic: the checkout client and the label pipeline, in one bounded process.

``python -m labs.drills.traffic --run-id RUN`` runs until the drill stops (its journal disappears or names
another run), the native lab it was started for is stopped (``aiops-lab down`` removes ``<state>/run/lab.json``;
the drill itself outlives ``down``, its traffic does not), ``--max-seconds`` pass, or ``--max-requests`` were
sent -- whichever comes first. It is
open-loop like real users: requests are scheduled at the configured rate whatever the service answers, so a
slow service builds a queue (as in production) instead of politely slowing the load down. In-flight requests
are capped, and what the client saw (answers by status, timeouts, refused connections) is written to
``<state>/drills/traffic-stats.json``: the user-side impact for the postmortem.

Its behaviour comes from ``upstream.json`` (see ``labs.drills.upstream``), re-read every second, so faults
and the learner's fixes take effect without restarting it. Data comes from the seeded generator
(``model_service.generator``) with the scenario the checkout release or the world calls for.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import time
from pathlib import Path
from typing import Any

from aiops_core.atomic import atomic_write
from aiops_core.runstate import locate, run_file
from labs.drills import journal, upstream
from labs.drills.traffic_http import ConnectionFailed, Http1Client, RequestTimeout
from model_service import congestion, generator
from model_service.features import FEATURES, TARGET

MAX_IN_FLIGHT = 128
REQUEST_TIMEOUT_S = 5.0
LABEL_WORKERS = 4
# Connections to the service, shared by checkout and labels; requests beyond them wait in the client (and
# count as in flight), as behind any client's connection pool. Not one connection per in-flight request:
# during a surge, uvicorn served requests on fresh connections far behind those on hot keep-alive ones
# (measured at 120 req/s against ~80 req/s of capacity: up to 4.8 s against at most 0.7 s), so every
# timeout's replacement connection waited out the next timeout too, and a learner's fresh connection --
# `aiops-lab config set`, the mitigation -- waited 20-30 s. With 32, the service's queue stays first come,
# first served (p50 1.6 s, max ~2 s) and a fresh connection is answered in ~1.1 s.
CONNECTIONS = 32
STATS_EVERY_S = 2.0
CHUNK_ROWS = 4000
# The native lab's record gone this long means the lab was stopped: keep sending and the requests hit
# whatever takes port 8000 next (found: a drill's traffic, left after 'aiops-lab down', hammered the test
# suite's tripwire on :8000 for half an hour).
LAB_GONE_S = 10.0
TRAFFIC = next(f.name for f in FEATURES if f.lookup)  # the feature the service looks up when it is omitted


class RecordSource:
    """Endless generated rows (features as sent + the true label) for the current scenario."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.scenario = ""
        self.rows: list[dict[str, Any]] = []
        self.labels: list[float] = []
        self.pos = 0
        self.chunk = 0

    def _refill(self, scenario: str) -> None:
        data = generator.columns(CHUNK_ROWS, self.seed + self.chunk, scenario)
        self.chunk += 1
        self.rows = generator.records(data)
        self.labels = [float(v) for v in data[TARGET]]
        self.scenario, self.pos = scenario, 0

    def take(self, n: int, scenario: str) -> tuple[list[dict[str, Any]], list[float]]:
        if scenario != self.scenario or self.pos + n > len(self.rows):
            self._refill(scenario)
        rows, labels = self.rows[self.pos:self.pos + n], self.labels[self.pos:self.pos + n]
        self.pos += n
        return rows, labels


def mobile_rows(rows: list[dict[str, Any]], labels: list[float], scenario: str) -> tuple[list[dict[str, Any]],
                                                                                         list[float]]:
    """The mobile app's version of these orders: no traffic_index (the app cannot see traffic).

    The service looks it up in the traffic feed, which reads the world (``congestion.reading``). The labels
    follow that reading, so a successful lookup predicts as well as a client-sent value would, and a fallback
    to imputation shows its real cost in the quality metrics. A scenario with a broken feed keeps its labels:
    its rows do not carry the true traffic to correct from.
    """
    sc = generator.scenario(scenario)
    coef = {**generator.TRUE_COEFFICIENTS, **sc.concept}[TRAFFIC]
    out_rows, out_labels = [], []
    for row, label in zip(rows, labels, strict=True):
        seen = row.get(TRAFFIC)
        if sc.feed_broken is None and seen is not None:
            label += coef * (congestion.reading(row["distance_km"], row["is_peak_hour"]) - seen)
        out_rows.append({k: v for k, v in row.items() if k != TRAFFIC})
        out_labels.append(label)
    return out_rows, out_labels


class Stats:
    """What the clients saw, cumulative, with a bounded series of snapshots for the postmortem."""

    def __init__(self, run_id: str, path: Path) -> None:
        self.run_id, self.path = run_id, path
        self.counts: collections.Counter[str] = collections.Counter()
        self.samples: collections.deque[dict[str, Any]] = collections.deque(maxlen=3000)

    def write(self) -> None:
        now = time.time()
        self.samples.append({"ts": now, **self.counts})
        atomic_write(self.path, json.dumps({"run_id": self.run_id, "updated": now, "counts": dict(self.counts),
                                            "samples": list(self.samples)}))


class TrafficRunner:
    def __init__(self, run_id: str, base_url: str, max_seconds: float, max_requests: int, seed: int,
                 lab_file: Path | None = None) -> None:
        """``lab_file``: the native lab's record the service URL came from; None when the URL was given or
        the target is compose (nothing to watch)."""
        self.run_id, self.base_url = run_id, base_url.rstrip("/")
        self.lab_file = lab_file
        self._lab_seen = time.monotonic()
        self.deadline = time.monotonic() + max_seconds
        self.max_requests = max_requests
        self.source = RecordSource(seed)
        self.rng = random.Random(seed)
        self.state = upstream.load() or upstream.UpstreamState()
        self.labels: collections.deque[tuple[str, float]] = collections.deque(maxlen=20_000)
        self.stats = Stats(run_id, journal.drills_dir() / "traffic-stats.json")
        self.in_flight = 0
        self.stop = asyncio.Event()

    def _lab_stopped(self) -> bool:
        if self.lab_file is None or self.lab_file.exists():
            self._lab_seen = time.monotonic()
            return False
        return time.monotonic() - self._lab_seen > LAB_GONE_S

    def _still_wanted(self) -> bool:
        if time.monotonic() > self.deadline or self.stats.counts["sent"] >= self.max_requests:
            return False
        if self._lab_stopped():
            print(f"the lab was stopped ({self.lab_file} gone for {LAB_GONE_S:.0f} s): the drill's traffic stops; "
                  "'aiops-lab drill stop' ends the drill", flush=True)
            return False
        try:
            current = journal.load_current()
        except ValueError:
            return True  # being rewritten this instant
        return current is not None and current.run_id == self.run_id and current.status != "stopped"

    async def _control(self) -> None:
        """Re-read upstream.json, watch for the end of the drill, write stats."""
        last_stats = 0.0
        while not self.stop.is_set():
            if not self._still_wanted():
                self.stop.set()
                break
            state = upstream.load()
            if state is not None:
                self.state = state
            if time.monotonic() - last_stats >= STATS_EVERY_S:
                self.stats.write()
                last_stats = time.monotonic()
            await asyncio.sleep(1.0)
        self.stats.write()

    def _body(self) -> tuple[bytes, list[float], int]:
        release = self.state.checkout
        n = release.batch_size if self.rng.random() < release.batch_share else 1
        rows, labels = self.source.take(n, release.scenario)
        if release.mobile_share and self.rng.random() < release.mobile_share:
            rows, labels = mobile_rows(rows, labels, release.scenario)
        if release.rename:
            rows = [{release.rename.get(k, k): v for k, v in row.items()} for row in rows]
        body: Any = rows[0] if n == 1 else {"instances": rows}
        return json.dumps(body).encode(), labels, n

    async def _predict(self, client: Http1Client) -> None:
        body, labels, n = self._body()
        self.in_flight += 1
        self.stats.counts["sent"] += 1
        try:
            resp = await client.post("/predict", body)
        except RequestTimeout:
            self.stats.counts["timeout"] += 1
            return
        except ConnectionFailed:
            self.stats.counts["connection_error"] += 1
            return
        finally:
            self.in_flight -= 1
        self.stats.counts[f"status_{resp.status_code}"] += 1
        if resp.status_code != 200:
            return
        try:
            data = resp.json()
            ids = [p["prediction_id"] for p in (data["predictions"] if n > 1 else [data])]
        except (ValueError, KeyError, TypeError):  # a 200 that is not the service's answer (a squatter)
            self.stats.counts["bad_body"] += 1
            return
        self.stats.counts["ok"] += 1
        if self.stats.counts["ok"] == 1:
            self.stats.write()  # `drill start` waits for the first served request: tell it now, not in 2 s
        ratio = self.state.labels.feedback_ratio
        for pid, label in zip(ids, labels, strict=False):
            if self.rng.random() < ratio:
                self.labels.append((pid, label))

    async def _checkout(self, client: Http1Client) -> None:
        tasks: set[asyncio.Task[None]] = set()
        next_at = time.monotonic()
        while not self.stop.is_set():
            rate = max(self.state.checkout.rate_per_s, 0.1)
            next_at += 1.0 / rate
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                next_at = time.monotonic()  # we fell behind (CPU starved): do not burst to catch up
            if self.in_flight >= MAX_IN_FLIGHT:
                self.stats.counts["client_shed"] += 1
                continue
            task = asyncio.create_task(self._predict(client))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        for task in list(tasks):
            task.cancel()

    async def _label_worker(self, client: Http1Client) -> None:
        while not self.stop.is_set():
            if self.state.labels.status != "running" or not self.labels:
                await asyncio.sleep(0.2)
                continue
            pid, actual = self.labels.popleft()
            try:
                resp = await client.post_json("/feedback", {"prediction_id": pid, "actual": round(actual, 3)})
                self.stats.counts[f"feedback_{resp.status_code}"] += 1
            except (RequestTimeout, ConnectionFailed):
                self.stats.counts["feedback_error"] += 1
                await asyncio.sleep(0.2)

    async def run(self) -> None:
        async with Http1Client(self.base_url, timeout=REQUEST_TIMEOUT_S,
                               max_connections=CONNECTIONS) as client:
            await asyncio.gather(self._control(), self._checkout(client),
                                 *(self._label_worker(client) for _ in range(LABEL_WORKERS)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-id", required=True, help="The drill run this traffic belongs to.")
    parser.add_argument("--base-url", default=None, help="Model service URL (default: the running lab's).")
    parser.add_argument("--max-seconds", type=float, default=2 * 3600.0)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    base_url, source = (args.base_url, "env") if args.base_url else locate("model-service")
    seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000
    runner = TrafficRunner(args.run_id, base_url, args.max_seconds, args.max_requests, seed,
                           lab_file=run_file() if source == "lab" else None)
    asyncio.run(runner.run())


if __name__ == "__main__":
    main()
