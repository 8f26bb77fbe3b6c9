"""The delivery job's and the hand-off's edges: an event purged or delivered already, a sink no
longer in the notify file, Redis refusing the hand-off, the store failing maintenance."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import Engine
from structlog.testing import capture_logs

from shared.constants import NOTIFY_SWEEP_LOCK_KEY
from shared.db.engine import create_engine
from shared.errors import PermanentError
from shared.notify_config import load_notify_file
from shared.settings import Settings
from tests.support.failures import delivery
from tests.support.notify_files import rule, webhook_sink, write_notify_file
from tests.support.outbox import outbox_rows
from tests.support.redis_server import free_port
from tests.support.sinks import WebhookReceiver
from tests.support.workers import drain
from worker.context import CONTEXT
from worker.handlers import process
from worker.notify.deliver import deliver
from worker.notify.events import OutboxEvent
from worker.notify.handoff import hand_off_after_commit
from worker.notify.maintenance import notify_maintenance


class _Job:
    def __init__(self, connection: Redis) -> None:
        self.connection = connection


def configured(env: dict[str, str], folder: Path, hook: WebhookReceiver, *sinks: str) -> Settings:
    path = write_notify_file(
        folder, *(webhook_sink(s, hook.url("/hook")) for s in sinks), rule(["outcome"], sinks)
    )
    settings = Settings.from_env({**env, "TUXHOOK_NOTIFY_FILE": str(path)})
    CONTEXT.configure(settings)
    return settings


def test_deliver_says_why_it_sent_nothing(
    store_env: dict[str, str],
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    settings = configured(store_env, tmp_path, hook, "hook", "other")
    try:
        assert deliver("evt_none", "hook") == "gone: purged from the outbox"
        process("build", delivery("build").to_job())
    finally:
        CONTEXT.close()
    drain(settings, redis_client)  # nothing handed over yet (the sweep's grace): not delivered
    hooked, other = outbox_rows(database_url)
    configured(store_env, tmp_path, hook, "hook")  # "other" has left the notify file
    try:
        assert deliver(hooked.event_id, "hook").startswith("204")
        assert deliver(hooked.event_id, "hook") == "already delivered"
        with pytest.raises(PermanentError, match="sink 'other' is no longer in the notify file"):
            deliver(other.event_id, "other")
    finally:
        CONTEXT.close()
    assert hook.ids() == [hooked.event_id]


def test_a_hand_off_redis_refuses_is_left_to_the_sweep() -> None:
    refused = Redis(port=free_port(), socket_connect_timeout=0.5)
    event = OutboxEvent("evt_x", "hook", "outcome", "build", "uid", None, "{}")
    with capture_logs() as logs:
        hand_off_after_commit(_Job(refused), [event])
    assert [e["event"] for e in logs] == ["notify_hand_off_deferred"]


def test_maintenance_that_meets_a_broken_store_says_so_and_lets_go(
    redis_client: Redis, tmp_path: Path
) -> None:
    broken: Engine = create_engine(f"sqlite:///{tmp_path / 'absent.sqlite3'}", lock_timeout_s=1)
    try:
        with capture_logs() as logs:
            notify_maintenance(broken, broken, redis_client, load_notify_file(None))
    finally:
        broken.dispose()
    assert [e["event"] for e in logs] == ["notify_maintenance_failed"]
    assert not redis_client.exists(NOTIFY_SWEEP_LOCK_KEY)
    # Another worker's pass under way: this one does nothing.
    redis_client.set(NOTIFY_SWEEP_LOCK_KEY, "1")
    with capture_logs() as logs:
        notify_maintenance(broken, broken, redis_client, load_notify_file(None))
    assert logs == []
