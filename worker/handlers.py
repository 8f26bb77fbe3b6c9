"""The job functions the receiver enqueues by dotted path (shared.constants.HANDLER_PATHS)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import structlog
from rq import get_current_job

from worker.context import CONTEXT
from worker.enrich import queue_case_fetch
from worker.notify.events import events_for
from worker.notify.handoff import hand_off_after_commit
from worker.notify.transition_events import take_pending
from worker.outcome import Update, update_from_job
from worker.store import Stored, save

log = structlog.get_logger("tuxhook.worker")


def process(kind: str, delivery: dict[str, Any]) -> Stored:
    """Store one delivery of `kind`; logs one line per job."""
    started = time.perf_counter()
    job = get_current_job()
    structlog.contextvars.bind_contextvars(job_id=job.id if job else None, kind=kind)
    try:
        change = with_events(update_from_job(kind, delivery))
        structlog.contextvars.bind_contextvars(uid=change.uid)
        take_pending()  # none from an earlier job whose transaction did not commit
        stored = save(CONTEXT.engine(), change)
        events = (change.events if stored == "applied" else ()) + take_pending()
        if events:
            hand_off_after_commit(job, events)
        if job is not None:  # after the commit: a fetch must find the test stored
            queue_case_fetch(job.connection, CONTEXT.settings, change, stored)
        log.info(
            "job",
            stored=stored,
            state=change.columns["state"],
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        return stored
    finally:
        # The worker's own lines between jobs must not carry this job's identity.
        structlog.contextvars.clear_contextvars()


def with_events(change: Update) -> Update:
    """The update, with the events its outcome announces under the notify file's rules."""
    events = events_for(change, CONTEXT.notify(), CONTEXT.public_url())
    return dataclasses.replace(change, events=events) if events else change


def handle_build(delivery: dict[str, Any]) -> Stored:
    return process("build", delivery)


def handle_oebuild(delivery: dict[str, Any]) -> Stored:
    return process("oebuild", delivery)


def handle_test(delivery: dict[str, Any]) -> Stored:
    return process("test", delivery)


def handle_plan(delivery: dict[str, Any]) -> Stored:
    return process("plan", delivery)
