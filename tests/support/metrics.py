"""Read /metrics as Prometheus would, with prometheus_client's own parser."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from rq import SimpleWorker

from worker.metrics import failure_outcome, record_finished_job

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


class MeteredSimpleWorker(SimpleWorker):
    """An in-process RQ worker wired to worker.metrics as worker/metrics.py's docstring shows."""

    def handle_job_success(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> None:
        super().handle_job_success(job, queue, *args, **kwargs)
        record_finished_job(self.connection, job, "succeeded")

    def handle_job_failure(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> None:
        outcome = failure_outcome(job)
        super().handle_job_failure(job, queue, *args, **kwargs)
        record_finished_job(self.connection, job, outcome)
