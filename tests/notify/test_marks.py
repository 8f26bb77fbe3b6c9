"""Deliveries are marked in the outbox a batch at a time, through Redis: marks a worker left
there (it died after a delivery) are written by maintenance, without sending the event again;
a batch the store refuses stays in Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy.exc import SQLAlchemyError

from shared.constants import NOTIFY_MARKS_KEY
from shared.db.engine import create_engine
from shared.settings import Settings
from tests.conftest import serving
from tests.support.api import post_document
from tests.support.builders import callback
from tests.support.failures import delivery
from tests.support.keys import KeyPair
from tests.support.notify_files import rule, webhook_sink, write_notify_file
from tests.support.outbox import outbox_rows
from tests.support.sinks import WebhookReceiver
from tests.support.workers import drain
from worker.context import CONTEXT
from worker.handlers import process
from worker.notify.marks import push_mark, write_marks


def stored_event(env: dict[str, str], folder: Path, hook: WebhookReceiver) -> Settings:
    """A build and its one event in the outbox, not handed over (as a test calling the handler
    outside RQ leaves it)."""
    path = write_notify_file(
        folder, webhook_sink("hook", hook.url("/hook")), rule(["outcome"], ["hook"])
    )
    settings = Settings.from_env({**env, "TUXHOOK_NOTIFY_FILE": str(path)})
    CONTEXT.configure(settings)
    try:
        process("build", delivery("build").to_job())
    finally:
        CONTEXT.close()
    return settings


def test_marks_a_dead_worker_left_in_redis_are_written_by_maintenance(
    store_env: dict[str, str],
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    settings = stored_event(store_env, tmp_path, hook)
    [row] = outbox_rows(database_url)
    # The worker delivered it, marked it in Redis, and died before writing the mark.
    push_mark(redis_client, row.id, "hook", "rq:queue:notify")
    drain(settings, redis_client)  # its maintenance writes the mark; nothing is sent again
    [row] = outbox_rows(database_url)
    assert (row.delivered, row.handed, row.attempts, row.last_error) == (True, True, 1, None)
    assert hook.received == [] and redis_client.llen(NOTIFY_MARKS_KEY) == 0


def test_a_batch_the_store_refuses_stays_in_redis(
    store_env: dict[str, str],
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    settings = stored_event(store_env, tmp_path, hook)
    [row] = outbox_rows(database_url)
    push_mark(redis_client, row.id, "hook", "rq:queue:notify")
    empty = create_engine(
        f"sqlite:///{tmp_path / 'no-schema.sqlite3'}", lock_timeout_s=1, write=True
    )
    try:
        with pytest.raises(SQLAlchemyError):
            write_marks(redis_client, empty)
    finally:
        empty.dispose()
    assert redis_client.llen(NOTIFY_MARKS_KEY) == 1
    drain(settings, redis_client)
    assert outbox_rows(database_url)[0].delivered


async def test_a_burst_of_deliveries_leaves_no_mark_waiting(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    """Marks are written once enough wait or the queue is empty: after the last delivery, all."""
    path = write_notify_file(
        tmp_path, webhook_sink("hook", hook.url("/hook")), rule(["outcome"], ["hook"])
    )
    settings = Settings.from_env({**store_env, "TUXHOOK_NOTIFY_FILE": str(path)})
    async with serving(settings) as receiver:
        for _ in range(5):
            await post_document(receiver, keys, callback("build"))
    drain(settings, redis_client)
    rows = outbox_rows(database_url)
    assert len(rows) == 5 and all(r.delivered and r.attempts == 1 for r in rows)
    assert redis_client.llen(NOTIFY_MARKS_KEY) == 0 and len(hook.received) == 5
