"""Handing a stored outcome's events to the notify queue, right after the commit.

Storing never waits for a sink, and never fails for want of a hand-off: if Redis cannot take
the events now, they stay un-handed in the outbox and maintenance's sweep hands them over.
"""

from __future__ import annotations

from typing import Any

import structlog
from redis.exceptions import RedisError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from worker.notify.outbox import hand_off_outcome

log = structlog.get_logger("tuxhook.notify")


def hand_off_after_commit(reader: Engine, writer: Engine, job: Any, kind: str, uid: str) -> None:
    if job is None:
        return  # run outside RQ (a test calling the handler): the sweep hands them over
    try:
        hand_off_outcome(reader, writer, job.connection, kind, uid)
    except (RedisError, SQLAlchemyError) as e:
        log.warning("notify_hand_off_deferred", kind=kind, uid=uid, reason=str(e).splitlines()[0])
