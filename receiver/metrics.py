"""The collectors behind GET /metrics: this receiver's own counters, plus what Redis holds,
read at scrape time (receiver/metrics_http.py serves them and counts each callback).

Each application has its own CollectorRegistry (not prometheus_client's global one), so that
tests and benchmarks can build several apps in one process.

The queue, worker and job series describe the whole deployment, not this process: every
receiver reports the same values, so aggregate them with max(), not sum().
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from redis import Redis
from redis.exceptions import RedisError

from receiver.limits import BodyBudget
from shared.constants import ENQUEUE_LATENCY_BUCKETS_S, JOB_OUTCOMES, KINDS, QUEUE_NAMES
from shared.job_metrics import JobSeries, read_series
from shared.notify_metrics import read_backlog, read_deliveries
from shared.queue_status import QueueStatus, queue_status, workers_alive

# Deliveries by (sink, outcome), and the outbox's (undelivered, oldest age in seconds).
NotifyFigures = tuple[dict[tuple[str, str], int], tuple[int, float]]

CALLBACK_OUTCOMES = ("accepted", "duplicate", "rejected", "failed")
UNKNOWN_KIND = "unknown"  # refused before its kind was known (bad signature, bad JSON...)
# What a 503 busy met: TUXHOOK_MAX_CONNECTIONS, or TUXHOOK_MAX_BUFFERED_BYTES.
BUSY_LIMITS = ("connections", "body_bytes")


class ReceiverMetrics:
    def __init__(self, connection: Redis) -> None:
        self.registry = CollectorRegistry()
        self.callbacks = Counter(
            "tuxhook_callbacks",
            "Callbacks received, by kind and outcome (accepted, duplicate, rejected, failed).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.rejections = Counter(
            "tuxhook_callback_rejections",
            "Callbacks refused, by cause (the error code of the answer).",
            ["cause"],
            registry=self.registry,
        )
        self.enqueue_latency = Histogram(
            "tuxhook_enqueue_duration_seconds",
            "Time from handing a verified callback to the queue until Redis acknowledged it.",
            buckets=ENQUEUE_LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.busy = Counter(
            "tuxhook_busy_refusals",
            "Requests and connections refused 503 busy, by the limit they met.",
            ["limit"],
            registry=self.registry,
        )
        for limit in BUSY_LIMITS:
            self.busy.labels(limit)
        # Zero series from the start, so that rate() has a baseline before the first callback.
        for kind in (*KINDS, UNKNOWN_KIND):
            for outcome in CALLBACK_OUTCOMES:
                self.callbacks.labels(kind, outcome)
        ProcessCollector(registry=self.registry)
        self.registry.register(RedisCollector(connection))

    def observe_callback(self, kind: str | None, status: int, outcome: str) -> None:
        kind = kind if kind in KINDS else UNKNOWN_KIND
        self.callbacks.labels(kind, callback_outcome(status, outcome)).inc()
        if outcome != "ok":
            self.rejections.labels(outcome).inc()

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))


def callback_outcome(status: int, outcome: str) -> str:
    """The label for a callback's answer: a 200 "ok" is a redelivery already queued."""
    if outcome == "ok":
        return "accepted" if status == 202 else "duplicate"
    return "rejected" if status < 500 else "failed"


class BodyCollector:
    """The body budget's figures, read at scrape time: plain integers on the request path are
    cheaper than prometheus_client's locked counters."""

    def __init__(self, budget: BodyBudget) -> None:
        self.budget = budget

    def describe(self) -> list[Metric]:
        return list(self.collect())

    def collect(self) -> Iterator[Metric]:
        budget = self.budget
        yield GaugeMetricFamily(
            "tuxhook_body_bytes_held",
            "Bytes of request bodies being read or held now (TUXHOOK_MAX_BUFFERED_BYTES caps it).",
            value=budget.reserved,
        )
        yield CounterMetricFamily(
            "tuxhook_body_bytes_read",
            "Bytes of request bodies read, as sent (compressed or not), by handlers that read one.",
            value=budget.read_bytes,
        )
        yield CounterMetricFamily(
            "tuxhook_body_bytes_decoded",
            "Bytes that request bodies sent with a Content-Encoding inflated to.",
            value=budget.decoded_bytes,
        )


class RedisCollector:
    """Queue depths, registries, workers and the workers' job counters, read from Redis."""

    def __init__(self, connection: Redis) -> None:
        self.connection = connection

    def describe(self) -> list[Metric]:
        # Describing nothing keeps registration from calling collect(), which would hit Redis.
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("tuxhook_redis_up", "1 when Redis answered this scrape, else 0.")
        try:
            queues, alive, jobs, notify = self._read()
        except RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from queue_families(queues)
        yield GaugeMetricFamily(
            "tuxhook_workers_alive", "RQ workers registered and not expired.", value=alive
        )
        yield from job_families(jobs)
        yield from notify_families(*notify)

    def _read(
        self,
    ) -> tuple[list[QueueStatus], int, dict[tuple[str, str], JobSeries], NotifyFigures]:
        now = datetime.now(UTC)
        queues = [queue_status(name, self.connection, now) for name in QUEUE_NAMES]
        notify = (read_deliveries(self.connection), read_backlog(self.connection, now))
        return queues, workers_alive(self.connection), read_series(self.connection), notify


_QUEUE_GAUGES: tuple[tuple[str, str, str], ...] = (
    ("tuxhook_queue_depth", "Jobs waiting in the queue.", "queued"),
    ("tuxhook_queue_started_jobs", "Jobs being run by a worker.", "started"),
    ("tuxhook_queue_scheduled_jobs", "Jobs waiting for a retry.", "scheduled"),
    ("tuxhook_failed_jobs", "Jobs in the queue's failed registry (dead letters).", "failed"),
)


def queue_families(queues: list[QueueStatus]) -> Iterator[Metric]:
    for name, doc, attr in _QUEUE_GAUGES:
        family = GaugeMetricFamily(name, doc, labels=["queue"])
        for q in queues:
            family.add_metric([q.name], getattr(q, attr))
        yield family
    age = GaugeMetricFamily(
        "tuxhook_queue_oldest_job_age_seconds",
        "Seconds the job at the head of the queue has waited; 0 when the queue is empty.",
        labels=["queue"],
    )
    for q in queues:
        age.add_metric([q.name], q.oldest_queued_age_s or 0.0)
    yield age


def job_families(jobs: dict[tuple[str, str], JobSeries]) -> Iterator[Metric]:
    labels = ["queue", "outcome"]
    total = CounterMetricFamily(
        "tuxhook_jobs", "Jobs run by the workers, by outcome.", labels=labels
    )
    duration = HistogramMetricFamily(
        "tuxhook_job_duration_seconds", "Time the workers spent on a job.", labels=labels
    )
    for queue in QUEUE_NAMES:
        for outcome in JOB_OUTCOMES:
            series = jobs.get((queue, outcome), JobSeries())
            total.add_metric([queue, outcome], series.count)
            duration.add_metric([queue, outcome], _buckets(series), series.sum_s)
    yield total
    yield duration


def _buckets(series: JobSeries) -> list[tuple[str, float]]:
    return [(le, float(count)) for le, count in series.cumulative()]


def notify_families(
    deliveries: dict[tuple[str, str], int], backlog: tuple[int, float]
) -> Iterator[Metric]:
    total = CounterMetricFamily(
        "tuxhook_notify_deliveries",
        "Notification delivery attempts, by sink and outcome (delivered, retried, failed).",
        labels=["sink", "outcome"],
    )
    for (sink, outcome), count in sorted(deliveries.items()):
        total.add_metric([sink, outcome], count)
    yield total
    undelivered, oldest_age_s = backlog
    yield GaugeMetricFamily(
        "tuxhook_outbox_undelivered",
        "Notification events not delivered yet, as the workers' maintenance last counted them.",
        value=undelivered,
    )
    yield GaugeMetricFamily(
        "tuxhook_outbox_oldest_undelivered_age_seconds",
        "Seconds the oldest undelivered notification event has waited; 0 when none.",
        value=oldest_age_s,
    )
