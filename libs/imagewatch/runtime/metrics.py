"""Prometheus metrics of a service process: one registry, every imagewatch series, bounded labels.

Names follow Prometheus conventions (``_total`` counters, ``_seconds`` units,
base units only). Labels only take values from closed sets: stage and subject
names, outcomes, severities, finding kinds, advisory source names, channel
kinds, route templates (never raw paths), HTTP methods and status codes.

Every service exports the pipeline series of its workers, its HTTP series,
``imagewatch_build_info`` and the process series. The series read from
PostgreSQL (fleet findings, advisory sources, outbox) are exported by the api
alone (``refresh_store_gauges``, at most every ``metrics.refresh_seconds`` on
scrape), so that replicas of other services do not each report them.
"""

from __future__ import annotations

import time

from importlib.metadata import PackageNotFoundError, version

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
HANDLING_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
FINDING_KINDS = ("vulnerability", "secret", "misconfiguration")


def build_version() -> str:
    """imagewatch's installed version (``0.0.0`` when it is not installed)."""
    try:
        return version("imagewatch")
    except PackageNotFoundError:
        return "0.0.0"


class Metrics:
    """One registry per process with the imagewatch series."""

    def __init__(self, service: str) -> None:
        self.service = service
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.build_info = Gauge("imagewatch_build_info", "imagewatch version this process runs (always 1)",
                                ["version", "service"], registry=r)
        self.build_info.labels(build_version(), service).set(1)
        # pipeline
        self.handled = Counter("imagewatch_messages_handled_total",
                               "Messages handled, by outcome (ok, retry, dead)",
                               ["stage", "subject", "outcome"], registry=r)
        self.failed = Counter("imagewatch_messages_failed_total",
                              "Messages whose handling failed (retried or dead-lettered)",
                              ["stage", "subject"], registry=r)
        self.dead_lettered = Counter("imagewatch_messages_dead_lettered_total",
                                     "Messages published to iw.dlq.<stage> and terminated",
                                     ["stage", "subject"], registry=r)
        self.seconds = Histogram("imagewatch_message_handling_seconds", "Time to handle one message",
                                 ["stage", "subject"], registry=r, buckets=HANDLING_BUCKETS)
        self.in_flight = Gauge("imagewatch_messages_in_flight", "Messages being handled right now",
                               ["stage", "subject"], registry=r)
        self.pending = Gauge("imagewatch_consumer_pending_messages",
                             "Messages in the stream not yet delivered to a stage's consumer",
                             ["stage", "subject"], registry=r)
        self.ack_pending = Gauge("imagewatch_consumer_ack_pending_messages",
                                 "Messages delivered to a stage's consumer and not yet acknowledged",
                                 ["stage", "subject"], registry=r)
        self.redelivered = Gauge("imagewatch_consumer_redelivered_messages",
                                 "Messages of a stage's consumer delivered more than once and not yet acknowledged",
                                 ["stage", "subject"], registry=r)
        # results
        self.images_scanned = Counter("imagewatch_images_scanned_total",
                                      "Images whose vulnerability matching finished (push or rescan)",
                                      registry=r)
        self.secrets_found = Counter("imagewatch_secrets_found_total",
                                     "Secrets and misconfigurations found in scanned images",
                                     ["kind", "severity"], registry=r)
        self.admission = Counter("imagewatch_admission_decisions_total",
                                 "Admission reviews answered, by outcome (allowed, denied, warned) and reason",
                                 ["outcome", "reason"], registry=r)
        self.fleet_findings = Gauge("imagewatch_fleet_findings",
                                    "Findings of the current images of every tag, by severity and kind",
                                    ["severity", "kind"], registry=r)
        self.fleet_images = Gauge("imagewatch_fleet_images", "Images that are the current image of a tag",
                                  registry=r)
        # data
        self.advisory_records = Gauge("imagewatch_advisory_records", "Advisory records stored per source",
                                      ["source"], registry=r)
        self.last_sync = Gauge("imagewatch_advisory_last_sync_timestamp_seconds",
                               "Unix time of the last successful sync per advisory source", ["source"], registry=r)
        self.sync_age = Gauge("imagewatch_advisory_sync_age_seconds",
                              "Seconds since the last successful sync per advisory source", ["source"], registry=r)
        self.sync_failures = Counter("imagewatch_advisory_sync_failures_total",
                                     "Advisory source runs that failed", ["source"], registry=r)
        # delivery
        self.notifications = Counter("imagewatch_notifications_total",
                                     "Notification delivery attempts, by channel kind and outcome "
                                     "(sent, retried, failed)", ["channel_kind", "outcome"], registry=r)
        self.outbox_depth = Gauge("imagewatch_outbox_pending_notifications",
                                  "Notifications waiting in the outbox (pending or to be retried)", registry=r)
        self.outbox_age = Gauge("imagewatch_outbox_oldest_pending_age_seconds",
                                "Age of the oldest notification still waiting in the outbox (0 when none)",
                                registry=r)
        # HTTP
        self.http = Counter("imagewatch_http_requests_total", "HTTP requests, by route template and status",
                            ["route", "method", "status"], registry=r)
        self.http_seconds = Histogram("imagewatch_http_request_duration_seconds",
                                      "HTTP request latency, by route template and status",
                                      ["route", "method", "status"], registry=r, buckets=HTTP_BUCKETS)
        self.store_refreshed = 0.0

    def observe(self, stage: str, subject: str, outcome: str, seconds: float) -> None:
        """Count one handled message and its duration."""
        self.handled.labels(stage, subject, outcome).inc()
        if outcome != "ok":
            self.failed.labels(stage, subject).inc()
        if outcome == "dead":
            self.dead_lettered.labels(stage, subject).inc()
        self.seconds.labels(stage, subject).observe(seconds)

    def backlog(self, stage: str, subject: str, pending: int, ack_pending: int, redelivered: int) -> None:
        """Set a consumer's backlog gauges."""
        self.pending.labels(stage, subject).set(pending)
        self.ack_pending.labels(stage, subject).set(ack_pending)
        self.redelivered.labels(stage, subject).set(redelivered)

    def notification(self, channel_kind: str, outcome: str) -> None:
        """Count one delivery attempt (``sent``, ``retried`` or ``failed``)."""
        self.notifications.labels(channel_kind, outcome).inc()

    def store_gauges(self, fleet: dict[tuple[str, str], int], fleet_images: int, sources: list,
                     outbox_depth: int, outbox_age: float, now: float | None = None) -> None:
        """Set the series read from PostgreSQL: fleet findings, advisory sources, outbox."""
        from imagewatch.models import SEVERITY_ORDER

        now = time.time() if now is None else now
        for kind in FINDING_KINDS:
            for severity in SEVERITY_ORDER:
                self.fleet_findings.labels(severity, kind).set(fleet.get((severity, kind), 0))
        self.fleet_images.set(fleet_images)
        for s in sources:
            self.advisory_records.labels(s.name).set(s.records)
            if s.last_sync is not None:
                ts = s.last_sync.timestamp()
                self.last_sync.labels(s.name).set(ts)
                self.sync_age.labels(s.name).set(max(0.0, now - ts))
        self.outbox_depth.set(outbox_depth)
        self.outbox_age.set(outbox_age)
        self.store_refreshed = now

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
