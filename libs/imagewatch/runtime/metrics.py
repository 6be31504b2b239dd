"""Prometheus metrics every service exposes: handled messages, failures, time, backlog per consumer."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """One registry per process with the imagewatch series."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.handled = Counter(
            "imagewatch_messages_handled_total", "Messages handled, by outcome",
            ["service", "stage", "subject", "outcome"], registry=self.registry)
        self.failures = Counter(
            "imagewatch_message_failures_total", "Messages that failed (retried or dead-lettered)",
            ["service", "stage", "subject"], registry=self.registry)
        self.seconds = Histogram(
            "imagewatch_handling_seconds", "Time to handle one message",
            ["service", "stage", "subject"], registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
        self.pending = Gauge(
            "imagewatch_consumer_pending", "Messages waiting for a stage's consumer",
            ["service", "stage", "subject"], registry=self.registry)
        self.backlog_pending = Gauge(
            "imagewatch_consumer_backlog_pending", "Messages of a consumer not yet delivered",
            ["service", "consumer"], registry=self.registry)
        self.backlog_ack_pending = Gauge(
            "imagewatch_consumer_backlog_ack_pending", "Messages of a consumer delivered and not yet acked",
            ["service", "consumer"], registry=self.registry)
        self.backlog_redelivered = Gauge(
            "imagewatch_consumer_backlog_redelivered", "Messages of a consumer delivered more than once, not yet acked",
            ["service", "consumer"], registry=self.registry)
        self.http = Counter(
            "imagewatch_http_requests_total", "HTTP requests, by route and status",
            ["service", "route", "status"], registry=self.registry)

    def observe(self, stage: str, subject: str, outcome: str, seconds: float) -> None:
        """Count one handled message and its duration."""
        self.handled.labels(self.service, stage, subject, outcome).inc()
        if outcome != "ok":
            self.failures.labels(self.service, stage, subject).inc()
        self.seconds.labels(self.service, stage, subject).observe(seconds)

    def backlog(self, consumer: str, pending: int, ack_pending: int, redelivered: int) -> None:
        """Set the backlog gauges of one consumer."""
        self.backlog_pending.labels(self.service, consumer).set(pending)
        self.backlog_ack_pending.labels(self.service, consumer).set(ack_pending)
        self.backlog_redelivered.labels(self.service, consumer).set(redelivered)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
