"""Job outcomes and durations as workers add them up in Redis, and as /metrics reads them back.

Workers run in many containers, and RQ runs each job in a short-lived forked child, so there
is no process that could hold these counters in memory. Redis is the one store they all share:
each finished job adds to a few fields of one hash (JOB_METRICS_KEY), and every receiver reads
the whole hash at scrape time.

Field layout, for each (queue, outcome):
    "<queue>:<outcome>:count"      jobs
    "<queue>:<outcome>:sum"        seconds, summed
    "<queue>:<outcome>:le:<bound>" jobs whose duration fell in the bucket ending at <bound>
                                   seconds ("+Inf" for the last); not cumulative, so that a job
                                   costs one increment, and the reader adds the buckets up.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from redis import Redis

from shared.constants import JOB_DURATION_BUCKETS_S, JOB_METRICS_KEY, JOB_OUTCOMES, QUEUE_NAMES

INF = "+Inf"


def bound_name(bound: float) -> str:
    """As Prometheus writes a bucket's `le`: 0.5, 1.0, +Inf."""
    return INF if math.isinf(bound) else repr(float(bound))


BOUNDS: tuple[float, ...] = (*JOB_DURATION_BUCKETS_S, math.inf)
BOUND_NAMES: tuple[str, ...] = tuple(bound_name(b) for b in BOUNDS)


def series_field(queue: str, outcome: str, name: str) -> str:
    return f"{queue}:{outcome}:{name}"


def bucket_field(queue: str, outcome: str, duration_s: float) -> str:
    """The field of the one bucket a job of `duration_s` seconds falls in (le: upper bound)."""
    index = bisect.bisect_left(BOUNDS, duration_s)
    return series_field(queue, outcome, f"le:{BOUND_NAMES[index]}")


def check_labels(queue: str, outcome: str) -> None:
    """Only known queues and outcomes: each becomes a label value, so the set must stay small."""
    if queue not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {queue!r}")
    if outcome not in JOB_OUTCOMES:
        raise ValueError(f"unknown job outcome {outcome!r}; one of {', '.join(JOB_OUTCOMES)}")


@dataclass
class JobSeries:
    """One (queue, outcome): job count, summed seconds, per-bucket (not cumulative) counts."""

    count: int = 0
    sum_s: float = 0.0
    buckets: dict[str, int] = field(default_factory=dict)

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound, jobs at or under it), as a Prometheus histogram exposes its buckets."""
        total, out = 0, []
        for name in BOUND_NAMES:
            total += self.buckets.get(name, 0)
            out.append((name, total))
        return out


def _apply(series: JobSeries, name: str, value: str) -> None:
    if name == "count":
        series.count = int(value)
    elif name == "sum":
        series.sum_s = float(value)
    elif name.startswith("le:"):
        series.buckets[name[3:]] = int(value)


def parse_series(raw: dict[str, str]) -> dict[tuple[str, str], JobSeries]:
    """Group the hash's fields by (queue, outcome); fields of unknown labels are ignored."""
    out: dict[tuple[str, str], JobSeries] = {}
    for key, value in raw.items():
        queue, outcome, name = [*key.split(":", 2), "", ""][:3]
        if queue in QUEUE_NAMES and outcome in JOB_OUTCOMES:
            _apply(out.setdefault((queue, outcome), JobSeries()), name, value)
    return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def read_series(connection: Redis) -> dict[tuple[str, str], JobSeries]:
    raw = connection.hgetall(JOB_METRICS_KEY)
    return parse_series({_text(k): _text(v) for k, v in raw.items()})
