"""The traffic feed's own metrics: what the provider sees (its requests, statuses and latency).

Compared with the model service's ``aiops_dependency_*`` metrics (what the client sees) they answer the
first question of any dependency incident -- is it them or us? A registry per app, so tests can build
several apps in one process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, gc_collector, platform_collector, process_collector

from model_service.metrics import LATENCY_BUCKETS

ROUTES = ("/v1/traffic-index", "/v1/control/fault", "/healthz", "/metrics", "other")


class FeedMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        self.requests = Counter("aiops_traffic_feed_requests_total", "Requests to the traffic feed by route "
                                "and status code.", ["route", "status"], registry=self.registry)
        self.duration = Histogram("aiops_traffic_feed_request_duration_seconds", "Time the traffic feed took "
                                  "to answer, by route.", ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.readings = Counter("aiops_traffic_feed_readings_total", "Route readings served (one per route "
                                "in a lookup).", registry=self.registry)
        for route in ROUTES:
            self.duration.labels(route)

    @staticmethod
    def route(path: str) -> str:
        return path if path in ROUTES else "other"
