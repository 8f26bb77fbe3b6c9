"""Why jobs failed, in one line each: for `tuxhook failed`, `replay` and `status`.

A worker records the reason of a permanent failure in the job's meta (worker/rq/failures.py);
any other failure (retries spent on an outage, a job timeout, a dead worker) is told by RQ's
record of the job's last run, a traceback, of which the exception's own line is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

from redis import Redis
from rq.exceptions import DeserializationError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.results import Result
from rq.serializers import JSONSerializer

from shared.constants import FAILED_JOBS_BATCH, JOB_FAILURE_TTL_S

REASON_MAX_CHARS = 300  # a reason longer than this is cut, and says so
NO_REASON = "no reason recorded"


def registry(queue: str, connection: Redis) -> FailedJobRegistry:
    return FailedJobRegistry(queue, connection=connection, serializer=JSONSerializer)


def entries(reg: FailedJobRegistry) -> Iterator[list[tuple[str, float]]]:
    """The registry's (job id, expiry score), a batch at a time, oldest expiry first."""
    start = 0
    while True:
        raw = reg.connection.zrange(reg.key, start, start + FAILED_JOBS_BATCH - 1, withscores=True)
        batch = cast(list[tuple[bytes, float]], raw)
        if not batch:
            return
        yield [(member.decode(), float(score)) for member, score in batch]
        start += FAILED_JOBS_BATCH


def failed_at(job: Job, expiry_score: float) -> datetime:
    """When the job failed: RQ's end time, else its registry expiry less its failure TTL."""
    if job.ended_at is not None:
        return job.ended_at
    ttl = job.failure_ttl if job.failure_ttl is not None else JOB_FAILURE_TTL_S
    return datetime.fromtimestamp(expiry_score - ttl, UTC)


@dataclass(frozen=True)
class FailedJob:
    job_id: str
    queue: str
    kind: str
    uid: str | None
    failed_at: str | None  # ISO 8601, UTC
    reason: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _short(line: str) -> str:
    """One line fit for a terminal: a message may quote a payload, so control characters (a
    terminal's escape sequences) are shown escaped, and a long line is cut."""
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line.strip())
    return line if len(line) <= REASON_MAX_CHARS else line[: REASON_MAX_CHARS - 1] + "…"


def exception_line(traceback_text: str) -> str:
    """The line of a formatted traceback that names the exception raised last: the first line
    after the last frame (frames, and the markers under them, are indented), so that a message
    of several lines, such as SQLAlchemy's, still gives its first."""
    lines = [ln for ln in traceback_text.splitlines() if ln.strip()]
    frames = [i for i, ln in enumerate(lines) if ln[:1].isspace()]
    after = lines[frames[-1] + 1 :] if frames else lines
    return _short(after[0]) if after else NO_REASON


def failure_reason(job: Job) -> str:
    recorded = job.meta.get("failure")
    if isinstance(recorded, str) and recorded.strip():
        return _short(recorded.splitlines()[0])
    result = job.latest_result()
    if result is not None and result.type == Result.Type.FAILED and result.exc_string:
        return exception_line(result.exc_string)
    return NO_REASON


def _delivery(job: Job) -> dict[str, Any]:
    try:
        delivery = job.kwargs.get("delivery")
    except DeserializationError:
        return {}
    return delivery if isinstance(delivery, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def describe(job_id: str, queue: str, job: Job | None, expiry_score: float) -> FailedJob:
    if job is None:  # the job's hash expired before its registry entry
        return FailedJob(job_id, queue, queue, None, None, "the job's data has expired")
    delivery = _delivery(job)
    return FailedJob(
        job_id=job_id,
        queue=queue,
        kind=_text(delivery.get("kind")) or queue,
        uid=_text(delivery.get("uid")),
        failed_at=failed_at(job, expiry_score).astimezone(UTC).isoformat(timespec="seconds"),
        reason=failure_reason(job),
    )


def failed_in(connection: Redis, queue: str) -> Iterator[FailedJob]:
    """Every failed job of `queue`, oldest failure first."""
    for batch in entries(registry(queue, connection)):
        ids = [job_id for job_id, _ in batch]
        jobs = Job.fetch_many(ids, connection, serializer=JSONSerializer)
        for (job_id, score), job in zip(batch, jobs, strict=True):
            yield describe(job_id, queue, job, score)


def latest_failure(connection: Redis, queue: str) -> FailedJob | None:
    """The newest entry of the queue's failed registry (scored by when it expires)."""
    raw = connection.zrevrange(registry(queue, connection).key, 0, 0, withscores=True)
    newest = cast(list[tuple[bytes, float]], raw)
    if not newest:
        return None
    [(member, score)] = newest
    job_id = member.decode()
    [job] = Job.fetch_many([job_id], connection, serializer=JSONSerializer)
    return describe(job_id, queue, job, float(score))


def all_failed_jobs(connection: Redis, queues: Iterable[str]) -> list[FailedJob]:
    """The failed jobs of `queues`, the most recent failure first."""
    found = [failed for queue in queues for failed in failed_in(connection, queue)]
    return sorted(found, key=lambda f: f.failed_at or "", reverse=True)


def when(failed: FailedJob) -> str:
    """When the job failed, in UTC, to the second: for tables."""
    return failed.failed_at.replace("T", " ").removesuffix("+00:00") if failed.failed_at else "-"


def render_failed(found: list[FailedJob]) -> str:
    if not found:
        return "no failed jobs"
    job = max(len("JOB"), *(len(f.job_id) for f in found)) + 2
    lines = [f"{'FAILED (UTC)':<21}{'KIND':<9}{'UID':<29}{'JOB':<{job}}REASON"]
    for f in found:
        lines.append(f"{when(f):<21}{f.kind:<9}{f.uid or '-':<29}{f.job_id:<{job}}{f.reason}")
    return "\n".join(lines)
