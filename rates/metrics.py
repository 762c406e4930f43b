"""Prometheus metrics, one registry per app (no module globals)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from widget.choices import STATUSES


class RequestCounts(Collector):
    """HTTP requests by route and status, counted in a plain dict.

    A labelled Counter takes a lock and validates its labels on every request; this is one
    dict update on the request path, turned into the same ``rates_http_requests_total``
    series only when /metrics is scraped.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}

    def count(self, route: str, status: int) -> None:
        key = (route, status)
        self.counts[key] = self.counts.get(key, 0) + 1

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "rates_http_requests", "HTTP requests by route and status", labels=["route", "status"]
        )
        for (route, status), count in sorted(self.counts.items()):
            family.add_metric([route, str(status)], count)
        yield family


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.fetches = Counter(
            "rates_fetch", "Source fetches by outcome", ["source", "outcome"], registry=self.registry
        )
        self.fetch_seconds = Histogram(
            "rates_fetch_duration_seconds",
            "Time to fetch and parse a source",
            ["source"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30),
        )
        self.last_success = Gauge(
            "rates_source_last_success_timestamp_seconds",
            "Unix time of the last successful fetch",
            ["source"],
            registry=self.registry,
        )
        self.rate = Gauge("rates_rate_iqd", "Published IQD per one unit", ["code"], registry=self.registry)
        self.status = Gauge(
            "rates_rate_status", "1 for the currency's current status", ["code", "status"], registry=self.registry
        )
        self.held = Gauge("rates_held_moves", "Moves held for review", registry=self.registry)
        self.store_writable = Gauge(
            "rates_store_writable", "1 while the store takes writes, 0 when it refuses them", registry=self.registry
        )
        self.store_writable.set(1)
        self.requests = RequestCounts()
        self.registry.register(self.requests)

        self.publishes = Counter(
            "rates_publish",
            "Publish-directory steps (write, command) by outcome",
            ["step", "outcome"],
            registry=self.registry,
        )
        self.publish_last_success = Gauge(
            "rates_publish_last_success_timestamp_seconds",
            "Unix time the publish directory (and its command) last succeeded",
            registry=self.registry,
        )
        self.publish_command_seconds = Histogram(
            "rates_publish_command_duration_seconds",
            "Time the publish command ran",
            registry=self.registry,
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )

    def publish_done(self, step: str, outcome: str) -> None:
        self.publishes.labels(step, outcome).inc()

    def publish_success(self, when: float) -> None:
        self.publish_last_success.set(when)

    def fetch_done(self, source: str, outcome: str, seconds: float, success_time: float | None) -> None:
        self.fetches.labels(source, outcome).inc()
        self.fetch_seconds.labels(source).observe(seconds)
        if success_time is not None:
            self.last_success.labels(source).set(success_time)

    def document(self, document: dict[str, Any], held: int) -> None:
        for entry in document["rates"]:
            # A gauge is a float by nature; NaN says "no rate" without inventing a number.
            value = math.nan if entry["rate"] is None else float(entry["rate"])  # presentation only
            self.rate.labels(entry["code"]).set(value)
            for status in STATUSES:
                self.status.labels(entry["code"], status).set(1 if entry["status"] == status else 0)
        self.held.set(held)

    def store(self, problem: str | None) -> None:
        self.store_writable.set(0 if problem else 1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
