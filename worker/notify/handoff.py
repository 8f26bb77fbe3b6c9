"""Handing a stored outcome's events to the notify queue, right after the commit.

Storing never waits for a sink, and never fails for want of a hand-off: if Redis cannot take
the events now, they stay un-handed in the outbox and maintenance's sweep hands them over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from redis.exceptions import RedisError

from worker.notify.events import OutboxEvent
from worker.notify.outbox import hand_off

log = structlog.get_logger("tuxhook.notify")


def hand_off_after_commit(job: Any, events: Sequence[OutboxEvent]) -> None:
    if job is None:
        return  # run outside RQ (a test calling the handler): the sweep hands them over
    try:
        hand_off(job.connection, ((e.event_id, e.sink) for e in events))
    except RedisError as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        log.warning("notify_hand_off_deferred", events=len(events), reason=reason)
