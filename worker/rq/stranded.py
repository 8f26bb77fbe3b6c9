"""Jobs stranded between a queue and a worker go back to the front of their queue, unspent.

A worker on one queue takes a job by moving its id atomically (BLMOVE) from the queue into
`<queue key>:intermediate`, enters it in the started registry, then marks it started and
removes it from the intermediate list in one transaction (RQ 3.0). A worker or a Redis that
dies before that transaction leaves the job QUEUED in no queue. RQ's maintenance would fail
it as "stuck" through handle_job_failure, spending one of its retries or sending it to the
failed registry; but it never ran, so tuxhook's maintenance puts it back where it was.

An entry is stranded once it has been seen there for longer than the grace
(TUXHOOK_STRANDED_JOB_GRACE, 60 s: RQ's own first-seen mark and grace) and is not in the
started registry. A live worker's job leaves the list within milliseconds, so its entry is
never touched.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import structlog
from redis import Redis
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job
from rq.queue import Queue
from rq.utils import as_text, now, utcparse

from shared.constants import (
    MAINTENANCE_LOCK_TTL_S,
    STRANDED_FIRST_SEEN_TTL_S,
    STRANDED_JOB_GRACE_S,
)

if TYPE_CHECKING:
    from rq.worker import BaseWorker

log = structlog.get_logger("tuxhook.worker")

# One atomic step, and only if the entry is still there: a worker that took the job after all
# (it was slow, not dead) has removed it, and then nothing is pushed. A job that left the
# QUEUED state is accounted for elsewhere (its registry or its result), so only its stale
# entry goes. LPUSH: workers take from the left, so the job goes back to the front.
# KEYS: intermediate list, queue list, job hash, first-seen mark. ARGV: job id.
_REQUEUE = """
local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('DEL', KEYS[4])
if removed == 0 then return 'gone' end
if redis.call('EXISTS', KEYS[3]) == 0 then return 'missing' end
local status = redis.call('HGET', KEYS[3], 'status')
if status and status ~= 'queued' then return status end
redis.call('HSET', KEYS[3], 'status', 'queued')
redis.call('LPUSH', KEYS[2], ARGV[1])
return 'requeued'
"""
REQUEUED = "requeued"

# Delete the maintenance lock only if it still holds this worker's token.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class StrandedJobs(IntermediateQueue):
    """A queue's intermediate list, whose clean-up requeues stranded jobs instead of failing
    them: those seen there for longer than `grace_s`."""

    def __init__(
        self, queue_key: str, connection: Redis, grace_s: float = STRANDED_JOB_GRACE_S
    ) -> None:
        super().__init__(queue_key, connection)
        self.grace_s = grace_s

    def cleanup(self, worker: BaseWorker, queue: Queue) -> None:
        self.recover(queue)

    def recover(self, queue: Queue) -> list[str]:
        """Put every stranded job back at the front of `queue`; the ids put back."""
        requeued = []
        for job_id in self.get_job_ids():
            if not self.connection.exists(Job.key_for(job_id)):
                self.requeue(queue, job_id)  # drops the entry of a job that is gone, as RQ does
                continue
            stranded_s = self.seen_for(job_id)
            if job_id in queue.started_job_registry or stranded_s <= self.grace_s:
                continue
            if self.requeue(queue, job_id) == REQUEUED:
                requeued.append(job_id)
                log.warning(
                    "job_recovered", job_id=job_id, queue=queue.name, stranded_s=round(stranded_s)
                )
        return requeued

    def seen_for(self, job_id: str) -> float:
        """Seconds since the entry was first seen here. A new entry is marked now, and so is
        one whose mark predates the job's latest enqueueing: that mark was left by an earlier
        pass of the job (a retry), never by this one.

        Entries in the started registry are marked too: a worker that died between entering
        the job there and starting it leaves it in both, and the grace then runs while the
        started entry waits to expire (job timeout + 60 s), rather than only after it."""
        first = self.get_first_seen(job_id)
        enqueued = self.connection.hget(Job.key_for(job_id), "enqueued_at")
        if first is None or (enqueued is not None and first < utcparse(as_text(enqueued))):
            mark = self.get_first_seen_key(job_id)
            self.connection.set(mark, now().timestamp(), ex=STRANDED_FIRST_SEEN_TTL_S)
            return 0.0
        return (now() - first).total_seconds()

    def requeue(self, queue: Queue, job_id: str) -> str:
        """Move the entry back to the front of `queue` at once; what happened: "requeued",
        "gone" (no longer there), "missing" (no such job) or the job's status, not queued."""
        script = self.connection.register_script(_REQUEUE)
        keys = [self.key, queue.key, Job.key_for(job_id), self.get_first_seen_key(job_id)]
        text = as_text(script(keys=keys, args=[job_id]))
        if text not in (REQUEUED, "gone"):
            log.info("stranded_entry_dropped", job_id=job_id, queue=queue.name, reason=text)
        return text


class RecoveringQueue(Queue):
    """An RQ queue whose maintenance requeues its stranded jobs (see StrandedJobs), under a
    lock that a worker dying during maintenance holds for a minute, not RQ's 15."""

    stranded_grace_s: float = STRANDED_JOB_GRACE_S  # a worker sets its Settings' value

    _lock_token: str | None = None

    def acquire_maintenance_lock(self) -> bool:
        token = uuid.uuid4().hex
        if not self.connection.set(
            self.registry_cleaning_key, token, nx=True, ex=MAINTENANCE_LOCK_TTL_S
        ):
            return False
        self._lock_token = token
        return True

    def release_maintenance_lock(self) -> None:
        """Only the lock this queue took: a pass that outlived it must not free another's."""
        token, self._lock_token = self._lock_token, None
        if token is not None:
            self.connection.register_script(_RELEASE)(
                keys=[self.registry_cleaning_key], args=[token]
            )

    @property
    def intermediate_queue(self) -> IntermediateQueue:
        return StrandedJobs(self.key, self.connection, self.stranded_grace_s)
