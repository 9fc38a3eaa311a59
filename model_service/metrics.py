"""Every Prometheus metric the model service exports, defined once.

Naming follows the Prometheus conventions: ``aiops_`` prefix, base units in the name, ``_total`` on
counters, bounded label values only (routes are templates, statuses are codes, features and flags come
from fixed lists). Rules, dashboards and runbooks are checked against this module by a test.

Per-feature and prediction-value histograms are fed in bulk (one call per request, not per row) through
``BulkHistogram``: a batch of 1000 rows must not cost 5000 ``observe()`` calls on the hot path. Batches
arrive as lists (``observe_many``, a bisect per value: cheapest for a few rows) or as numpy arrays
(``observe_array``, one vectorised bucketing). The batch path of /predict hands its arrays to
``SERVED_VALUES``, which buckets many requests' arrays at once, before any scrape reads the histograms.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

from model_service.features import FEATURE_NAMES, FEATURES

if TYPE_CHECKING:
    import numpy as np

# Latency SLO threshold (seconds). A bucket boundary sits exactly here so the SLI is exact.
LATENCY_SLO_SECONDS = 0.25
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PREDICTION_BUCKETS_SECONDS = tuple(m * 60.0 for m in (5, 10, 15, 20, 25, 30, 40, 50, 60, 90, 120, 240))
ABS_ERROR_BUCKETS_SECONDS = tuple(m * 60.0 for m in (0.5, 1, 2, 3, 5, 8, 12, 20, 30, 60))

ROUTES = ("/predict", "/feedback", "/healthz", "/readyz", "/model", "/metrics", "/admin", "other")
VALIDATION_FIELDS = (*FEATURE_NAMES, "instances", "body", "prediction_id", "actual", "other")
ANOMALY_KINDS = ("missing", "zero", "out_of_training_range")

HTTP_REQUESTS = Counter(
    "aiops_http_requests_total", "HTTP requests by route template, method and status code.",
    ["route", "method", "status"])
HTTP_DURATION = Histogram(
    "aiops_http_request_duration_seconds", "HTTP request latency by route template.",
    ["route"], buckets=LATENCY_BUCKETS)
HTTP_IN_FLIGHT = Gauge("aiops_http_requests_in_flight", "HTTP requests being served right now.")

PREDICTIONS = Counter("aiops_predictions_total", "Rows predicted, by model version.", ["model_version"])
VALIDATION_ERRORS = Counter(
    "aiops_validation_errors_total", "Rejected inputs by the field that failed validation.", ["field"])
FEATURE_ANOMALIES = Counter(
    "aiops_feature_anomalies_total",
    "Rows whose feature was missing (null, imputed), zero, or outside the active model's training range.",
    ["feature", "kind"])

FEEDBACK = Counter("aiops_feedback_total", "Ground-truth labels received, by the model version that "
                   "made the prediction.", ["model_version"])
FEEDBACK_UNKNOWN = Counter("aiops_feedback_unknown_prediction_total",
                           "Feedback for a prediction id the log does not know.")
ABS_ERROR = Histogram(
    "aiops_prediction_absolute_error_seconds",
    "|predicted - actual| delivery time for predictions that received feedback. "
    "Windowed MAE = rate(_sum) / rate(_count).", ["model_version"], buckets=ABS_ERROR_BUCKETS_SECONDS)

MODEL_INFO = Gauge("aiops_model_info", "The active model (value 1), with its identity as labels.",
                   ["version", "algorithm", "data_scenario", "training_data_hash"])
MODEL_LOAD_SECONDS = Gauge("aiops_model_load_duration_seconds", "Time the last model load took.")
MODEL_CREATED = Gauge("aiops_model_created_timestamp_seconds",
                      "Unix time the active model was trained (model age = time() - this).")
MODEL_DEPLOYS = Counter("aiops_model_deployments_total", "Model activations (deploys and rollbacks).",
                        ["action"])

CONFIG_FLAG = Gauge("aiops_config_flag", "Current value of each runtime config flag (enums: index).",
                    ["flag"])
CONFIG_CHANGES = Counter("aiops_config_changes_total", "Runtime config changes applied.", ["flag"])

# Upstream dependencies the service calls on the request path (today: the traffic feed, for rows that omit
# traffic_index). Outcomes and fallbacks are fixed lists; a dependency is a topology component name.
DEPENDENCIES = ("traffic-feed",)
DEPENDENCY_OUTCOMES = ("ok", "timeout", "error")
FALLBACK_KINDS = ("fail", "impute")
DEPENDENCY_REQUESTS = Counter(
    "aiops_dependency_requests_total", "Calls to an upstream dependency by outcome: ok, timeout (the "
    "traffic_feed_timeout_ms budget ran out) or error (refused, HTTP error status, malformed answer).",
    ["dependency", "outcome"])
DEPENDENCY_DURATION = Histogram(
    "aiops_dependency_request_duration_seconds", "Time spent in calls to an upstream dependency, failed "
    "ones included (a timeout shows up at the timeout).", ["dependency"], buckets=LATENCY_BUCKETS)
DEPENDENCY_FALLBACKS = Counter(
    "aiops_dependency_fallbacks_total", "Failed dependency calls (and calls skipped by an open circuit breaker) "
    "by what the service did instead: fail (the request got a 503) or impute (served with the feature "
    "missing).", ["dependency", "fallback"])

# The circuit breaker around a dependency (model_service/circuit_breaker.py; runtime flags
# traffic_feed_breaker_*). State as one series per state (1 = current), so PromQL selects state="open".
BREAKER_STATES = ("closed", "open", "half_open")
BREAKER_STATE = Gauge(
    "aiops_dependency_circuit_breaker_state", "Circuit breaker state per dependency: 1 on the current state "
    "(closed: calls made; open: calls skipped, fallback at once; half_open: one probe call in flight).",
    ["dependency", "state"])
BREAKER_TRANSITIONS = Counter(
    "aiops_dependency_circuit_breaker_transitions_total", "Circuit breaker state changes, by the state entered.",
    ["dependency", "state"])
BREAKER_SHORT_CIRCUITS = Counter(
    "aiops_dependency_short_circuits_total", "Dependency calls not made because the circuit breaker was open "
    "(the fallback applied at once; also counted in aiops_dependency_fallbacks_total).", ["dependency"])

# Queueing before any handler runs: how late the event loop wakes a task that asked to sleep a fixed interval
# (model_service/loop_lag.py). A CPU hog, a blocking call or a request burning CPU on the loop delays every
# request waiting for it, and the request-duration histogram (timed from the handler's start) sees none of it.
LOOP_LAG_INTERVAL_SECONDS = 0.1  # how often the lag is sampled
LOOP_LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
EVENT_LOOP_LAG = Histogram(
    "aiops_event_loop_lag_seconds", "How late the service's event loop ran a timer (sampled every "
    f"{LOOP_LAG_INTERVAL_SECONDS * 1000:g} ms): time a ready request waits before its handler can start.",
    buckets=LOOP_LAG_BUCKETS)

LOG_QUEUE_DEPTH = Gauge("aiops_prediction_log_queue_depth", "Rows not yet written to the log: waiting, and the "
                        "batch being committed or retried.")
LOG_WRITE_ERRORS = Counter("aiops_prediction_log_write_errors_total", "Failed prediction-log commits.")
# The log's database file removed or replaced under the running service (model_service/prediction_log_file.py):
# every such event pages a ticket, and each attempt to copy the old file's rows into a new one is counted.
LOG_FILE_REPLACED = Counter(
    "aiops_prediction_log_file_replaced_total", "Times the log writer found its database file removed or "
    "replaced at its path under the running service.")
LOG_RECOVERY_OUTCOMES = ("copied", "failed")
LOG_RECOVERIES = Counter(
    "aiops_prediction_log_recoveries_total", "Attempts to copy the rows of a removed or replaced log file into a "
    "new file at its path: copied (nothing lost) or failed (retried every second; new rows get 503 meanwhile).",
    ["outcome"])
# /readyz's checks, one series each (1 passing, 0 failing): set at every scrape from the same function as
# /readyz, so an alert can say which check keeps the service not ready.
READINESS_CHECKS = ("model_loaded", "prediction_log_writable")
READINESS = Gauge("aiops_readiness", "Readiness checks of /readyz: 1 while the check passes, 0 while it fails "
                  "(/readyz answers 503 while any is 0).", ["check"])
LOG_ROWS_WRITTEN = Counter("aiops_prediction_log_rows_written_total", "Rows committed to the log.",
                           ["table"])
LOG_COMMIT_SECONDS = Histogram("aiops_prediction_log_commit_duration_seconds",
                               "Time per batched log commit.", buckets=LATENCY_BUCKETS)


class BulkHistogram(Collector):
    """A label-less histogram that accepts many observations in one call.

    prometheus_client's Histogram takes a lock per ``observe()``; here one lock covers a whole batch.
    """

    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = [float(b) for b in buckets]
        self._counts = [0] * (len(self.bounds) + 1)  # last slot is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()
        self._array_bounds: np.ndarray | None = None
        self.before_collect: Callable[[], None] | None = None  # brings in observations still held elsewhere

    def observe_many(self, values: Sequence[float]) -> None:
        bounds, counts = self.bounds, self._counts
        total = 0.0
        with self._lock:
            for v in values:
                counts[bisect.bisect_left(bounds, v)] += 1
                total += v
            self._sum += total

    def observe_array(self, values: np.ndarray) -> None:
        """Observe every value of a 1-d float array (no NaN: the caller drops what it must not observe)."""
        import numpy as np

        if self._array_bounds is None:
            self._array_bounds = np.asarray(self.bounds)
        index = self._array_bounds.searchsorted(values, side="left")
        # np.add.reduce: values.sum() without its Python wrapper (a third of the cost on 100 values)
        self._add(np.bincount(index, minlength=len(self._counts)).tolist(), float(np.add.reduce(values)))

    def _add(self, per_bucket: list[int], total: float) -> None:
        counts = self._counts
        with self._lock:
            for i, c in enumerate(per_bucket):
                if c:
                    counts[i] += c
            self._sum += total

    def collect(self) -> Iterable[HistogramMetricFamily]:
        if self.before_collect is not None:
            self.before_collect()
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, running = [], 0
        for bound, c in zip([*map(str, self.bounds), "+Inf"], counts, strict=True):
            running += c
            cumulative.append((bound, running))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=cumulative, sum_value=total)


PREDICTED_DELIVERY = BulkHistogram(
    "aiops_predicted_delivery_seconds", "Predicted delivery time served to clients.",
    PREDICTION_BUCKETS_SECONDS)
FEATURE_VALUES: dict[str, BulkHistogram] = {
    f.name: BulkHistogram(f.metric_name, f"Served values of {f.name} ({f.unit}); nulls are not observed.",
                          f.buckets)
    for f in FEATURES
}


class ServedValues:
    """The served-values histograms of numpy batches (the prediction, and every feature), bucketed many
    requests at a time.

    Why (issue 18): bucketing the six histograms is ~20 numpy calls a request whatever the batch holds: 24 µs
    for 100 rows in-process, ~5 % of a batch request's CPU, against 4 µs with the flushes spread over the
    requests (benchmarks/PROFILE.md, round 4). A request now only hands its arrays over (one append);
    they are bucketed when a scrape collects any of these histograms, or in the request that brings the
    pending rows to ``max_rows`` (so memory stays bounded when nobody scrapes). Every scrape therefore sees
    every value served before it, in the same buckets; only ``_sum`` may differ in its last bits, as a float
    total added in another order does.

    The arrays are kept, not copied: the caller must not change them afterwards (the route does not).
    """

    def __init__(self, predicted: BulkHistogram, features: Sequence[BulkHistogram],
                 nullable: Sequence[bool], max_rows: int = 20_000) -> None:
        self.predicted = predicted
        self.features = list(features)
        self.nullable = list(nullable)
        self.max_rows = max_rows
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._rows = 0
        self._lock = threading.Lock()  # the pending list
        self._flushing = threading.Lock()  # a collect waits for a flush in progress, so it misses nothing
        for hist in (predicted, *features):
            hist.before_collect = self.flush

    def add(self, matrix: np.ndarray, predicted: np.ndarray) -> None:
        """A batch's feature matrix (FEATURES order, NaN for a null: not observed) and its predictions
        (minutes; observed in seconds)."""
        with self._lock:
            self._pending.append((matrix, predicted))
            self._rows += len(predicted)
            full = self._rows >= self.max_rows
        if full:
            self.flush()

    def flush(self) -> None:
        import numpy as np

        with self._flushing:
            with self._lock:
                pending, self._pending, self._rows = self._pending, [], 0
            if not pending:
                return
            if len(pending) == 1:
                matrix, predicted = pending[0]
            else:
                matrix = np.concatenate([m for m, _ in pending])
                predicted = np.concatenate([p for _, p in pending])
            self.predicted.observe_array(predicted * 60.0)
            for i, (hist, nullable) in enumerate(zip(self.features, self.nullable, strict=True)):
                column = matrix[:, i]
                hist.observe_array(column[~np.isnan(column)] if nullable else column)


SERVED_VALUES = ServedValues(PREDICTED_DELIVERY, [FEATURE_VALUES[f.name] for f in FEATURES],
                             [f.nullable for f in FEATURES])

_registered = False


def register_bulk_collectors() -> None:
    """Register the bulk histograms once per process (the app factory may run more than once)."""
    global _registered
    if _registered:
        return
    REGISTRY.register(PREDICTED_DELIVERY)
    for hist in FEATURE_VALUES.values():
        REGISTRY.register(hist)
    for route in ROUTES:
        HTTP_DURATION.labels(route)
    for field in VALIDATION_FIELDS:
        VALIDATION_ERRORS.labels(field)
    for name in FEATURE_NAMES:
        for kind in ANOMALY_KINDS:
            FEATURE_ANOMALIES.labels(name, kind)
    for action in ("deploy", "rollback"):
        MODEL_DEPLOYS.labels(action)
    for dependency in DEPENDENCIES:
        DEPENDENCY_DURATION.labels(dependency)
        for outcome in DEPENDENCY_OUTCOMES:
            DEPENDENCY_REQUESTS.labels(dependency, outcome)
        for fallback in FALLBACK_KINDS:
            DEPENDENCY_FALLBACKS.labels(dependency, fallback)
        for state in BREAKER_STATES:
            BREAKER_STATE.labels(dependency, state).set(1.0 if state == "closed" else 0.0)
            BREAKER_TRANSITIONS.labels(dependency, state)
        BREAKER_SHORT_CIRCUITS.labels(dependency)
    LOG_ROWS_WRITTEN.labels("predictions")
    LOG_ROWS_WRITTEN.labels("feedback")
    for outcome in LOG_RECOVERY_OUTCOMES:
        LOG_RECOVERIES.labels(outcome)
    _registered = True


def all_metric_names() -> set[str]:
    """Every exported family name, including the suffixed series names Prometheus will store."""
    register_bulk_collectors()  # pre-initialises labelled children so every family has samples
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created")}
    names: set[str] = set()
    for collector in (HTTP_REQUESTS, HTTP_DURATION, HTTP_IN_FLIGHT, PREDICTIONS, VALIDATION_ERRORS,
                      FEATURE_ANOMALIES, FEEDBACK, FEEDBACK_UNKNOWN, ABS_ERROR, MODEL_INFO,
                      MODEL_LOAD_SECONDS, MODEL_CREATED, MODEL_DEPLOYS, CONFIG_FLAG, CONFIG_CHANGES,
                      DEPENDENCY_REQUESTS, DEPENDENCY_DURATION, DEPENDENCY_FALLBACKS,
                      BREAKER_STATE, BREAKER_TRANSITIONS, BREAKER_SHORT_CIRCUITS, EVENT_LOOP_LAG,
                      LOG_QUEUE_DEPTH, LOG_WRITE_ERRORS, LOG_ROWS_WRITTEN, LOG_COMMIT_SECONDS,
                      LOG_FILE_REPLACED, LOG_RECOVERIES, READINESS,
                      PREDICTED_DELIVERY, *FEATURE_VALUES.values()):
        for family in collector.collect():
            names.update(s.name for s in family.samples)
            names.add(family.name)
            names.update(family.name + suffix for suffix in suffixes.get(family.type, ()))
    return names
