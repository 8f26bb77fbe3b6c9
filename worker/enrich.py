"""The enrich queue: a finished test's per-case results, fetched from TuxSuite's API.

When TUXHOOK_TUXSUITE_API_URL is set, the job that stored a finished test queues, once its
transaction has committed, a job on the `enrich` queue, by dotted path (ENRICH_HANDLER_PATH)
and as JSON, like every job. Its id is derived from the delivery's, and it is queued only if
no job of that id is held already: a delivery processed again (an RQ retry after the commit,
a redelivery) queues no second fetch while the first is held, and does queue one if the first
was lost with a worker that died between its commit and its enqueue.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, get_current_job
from rq.exceptions import DuplicateJobError
from rq.serializers import JSONSerializer

from shared.constants import (
    ENRICH_HANDLER_PATH,
    ENRICH_QUEUE,
    ENRICH_RETRY_INTERVALS_S,
    JOB_FAILURE_TTL_S,
    JOB_RESULT_TTL_S,
)
from shared.errors import PermanentError, TransientError
from shared.identity import job_id
from shared.settings import Settings
from worker.case_store import find_test, record_failure, store_cases
from worker.context import CONTEXT
from worker.notify.handoff import hand_off_after_commit
from worker.notify.transition_events import take_pending
from worker.outcome import Update
from worker.tuxsuite_api import (
    AccessRefused,
    CasesUnavailable,
    fetch_results,
    parse_cases,
    results_url,
)

log = structlog.get_logger("tuxhook.enrich")

ENRICH_RETRY = Retry(max=len(ENRICH_RETRY_INTERVALS_S), interval=list(ENRICH_RETRY_INTERVALS_S))


def enrich_job_id(change: Update) -> str:
    return "enrich-" + job_id(change.kind, change.uid, change.digest)


def wants_cases(settings: Settings, change: Update, stored: str) -> bool:
    """A finished test's delivery that was stored (or had been), with an API to ask."""
    return (
        settings.tuxsuite_api_url is not None
        and change.kind == "test"
        and change.columns.get("state") == "finished"
        and stored != "stale"
    )


def queue_case_fetch(connection: Redis, settings: Settings, change: Update, stored: str) -> None:
    """Queue the fetch of a finished test's cases, unless one is held already."""
    if not wants_cases(settings, change, stored):
        return
    queue = Queue(ENRICH_QUEUE, connection=connection, serializer=JSONSerializer)
    try:
        queue.enqueue_call(
            ENRICH_HANDLER_PATH,
            kwargs={"test": {"uid": change.uid}},
            job_id=enrich_job_id(change),
            unique=True,
            timeout=settings.job_timeout_s,
            result_ttl=JOB_RESULT_TTL_S,
            failure_ttl=JOB_FAILURE_TTL_S,
            retry=ENRICH_RETRY,
            description=f"cases of test {change.uid}",
        )
    except DuplicateJobError:
        return
    except RedisError as e:
        # The delivery is stored; its job runs again (and finds it stored) to queue the fetch.
        raise TransientError(f"cannot queue the fetch of test {change.uid}'s cases: {e}") from e


def _uid(test: Any) -> str:
    uid = test.get("uid") if isinstance(test, dict) else None
    if not isinstance(uid, str) or not uid:
        raise PermanentError("the enrich job does not name a test uid")
    return uid


def fetch_cases(test: dict[str, Any]) -> str:
    """The enrich job: fetch a test's per-case results and store them, or why there are none.
    Returns "stored" or "unavailable"; logs one line."""
    started = time.perf_counter()
    uid = _uid(test)
    job = get_current_job()
    structlog.contextvars.bind_contextvars(
        job_id=job.id if job else None, kind="test", uid=uid, queue=ENRICH_QUEUE
    )
    try:
        settings, engine = CONTEXT.settings, CONTEXT.engine()
        if settings.tuxsuite_api_url is None:
            raise PermanentError("TUXHOOK_TUXSUITE_API_URL is not set for this worker")
        ref = find_test(engine, uid)
        try:
            cases = _fetch(settings.tuxsuite_api_url, settings, ref.project, uid)
        except CasesUnavailable as e:
            record_failure(engine, ref.outcome_id, e.message)
            log.warning("cases_unavailable", reason=e.message)
            if isinstance(e, AccessRefused):
                raise
            return "unavailable"
        take_pending()  # none from an earlier job whose transaction did not commit
        events = store_cases(engine, ref, cases, CONTEXT.notify().kcidb_sinks())
        hand_off_after_commit(job, events + take_pending())
        ms = round((time.perf_counter() - started) * 1000, 3)
        log.info("cases_stored", cases=len(cases), duration_ms=ms)
        return "stored"
    finally:
        structlog.contextvars.clear_contextvars()


def _fetch(api_url: str, settings: Settings, project: str | None, uid: str) -> dict[str, str]:
    url = results_url(api_url, project, uid)
    # A loop of its own, in a thread of its own: the job may run where a loop is running
    # already (a worker pass inside an asyncio test); the fetch's own timeout bounds the wait.
    with ThreadPoolExecutor(1, thread_name_prefix="enrich") as pool:
        body = pool.submit(asyncio.run, fetch_results(url, settings.tuxsuite_token)).result()
    return parse_cases(body)
