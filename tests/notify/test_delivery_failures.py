"""A sink that refuses: the failed registry at once with its reason, `tuxhook failed` shows it,
`tuxhook replay` or the daily re-drive delivers it once the sink is fixed. Events a dead worker
never handed over are handed over by maintenance's sweep; delivered ones are purged."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from redis import Redis

from shared.constants import NOTIFY_QUEUE, NOTIFY_REDRIVE_KEY, NOTIFY_RETRY_INTERVALS_S
from shared.db.schema import outbox as outbox_table
from shared.settings import Settings
from tests.support.cli import run_cli
from tests.support.database import engine_for
from tests.support.failures import delivery
from tests.support.jobs import fetch
from tests.support.notify_files import outbox, rule, webhook_sink, write_notify_file
from tests.support.outbox import OutboxRow, outbox_rows
from tests.support.sinks import WebhookReceiver
from tests.support.workers import drain
from worker.context import CONTEXT
from worker.handlers import process
from worker.notify.maintenance import redrive
from worker.notify.outbox import purge


def env_for(
    env: dict[str, str], path: Path, hook: WebhookReceiver, grace_s: int = 30
) -> dict[str, str]:
    notify = write_notify_file(
        path, webhook_sink("hook", hook.url("/hook")), rule(["outcome"], ["hook"]), outbox(grace_s)
    )
    return {**env, "TUXHOOK_NOTIFY_FILE": str(notify)}


def stored_without_hand_off(settings: Settings) -> None:
    """A build stored as a worker that died right after its commit leaves it: the handler run
    outside RQ stores the outcome and its events, and hands nothing over."""
    CONTEXT.configure(settings)
    try:
        process("build", delivery("build").to_job())
    finally:
        CONTEXT.close()


def failed_once(env: dict[str, str], redis: Redis, hook: WebhookReceiver, url: str) -> OutboxRow:
    settings = Settings.from_env(env)
    hook.script = [410]
    stored_without_hand_off(settings)
    time.sleep(1.1)  # past the sweep's grace of 1 s
    drain(settings, redis)
    [row] = outbox_rows(url)
    return row


def test_the_sweep_hands_over_what_a_dead_worker_left_once_past_its_grace(
    store_env: dict[str, str],
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    settings = Settings.from_env(env_for(store_env, tmp_path, hook))
    stored_without_hand_off(settings)
    drain(settings, redis_client)  # 30 s of grace: the worker that wrote it may still hand over
    [row] = outbox_rows(database_url)
    assert not row.handed and hook.received == []
    settings = Settings.from_env(env_for(store_env, tmp_path, hook, grace_s=1))
    time.sleep(1.1)
    drain(settings, redis_client)
    [row] = outbox_rows(database_url)
    assert row.handed and row.delivered and hook.ids() == [row.event_id]


def test_a_refusal_fails_at_once_with_its_reason_and_a_replay_delivers(
    store_env: dict[str, str],
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    env = env_for(store_env, tmp_path, hook, grace_s=1)
    row = failed_once(env, redis_client, hook, database_url)
    assert row.handed and not row.delivered and row.attempts == 1
    assert row.last_error is not None and "answered 410: scripted 410" in row.last_error
    failed = run_cli(env, "failed", "--queue", NOTIFY_QUEUE)
    assert failed.returncode == 0, failed.stderr
    assert (
        f"notify_{row.event_id}_hook" in failed.stdout
        and "answered 410: scripted 410" in failed.stdout
    )
    replayed = run_cli(env, "replay", "--queue", NOTIFY_QUEUE, "--all")
    assert replayed.returncode == 0 and "requeued 1 failed job(s)" in replayed.stdout
    job = fetch(redis_client, f"notify_{row.event_id}_hook")
    assert job.retry_intervals == list(NOTIFY_RETRY_INTERVALS_S)  # a delivery's, not a store's
    drain(Settings.from_env(env), redis_client)
    [row] = outbox_rows(database_url)
    assert row.delivered and row.attempts == 2
    assert hook.ids() == [row.event_id]


def test_the_daily_redrive_offers_failed_events_again_up_to_an_age(
    store_env: dict[str, str],
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    env = env_for(store_env, tmp_path, hook, grace_s=1)
    row = failed_once(env, redis_client, hook, database_url)
    assert redis_client.ttl(NOTIFY_REDRIVE_KEY) > 23 * 3600  # the day's re-drive has run
    engine = engine_for(database_url)
    try:
        old = datetime.now(UTC) - timedelta(days=8)
        with engine.begin() as conn:
            conn.execute(sa.update(outbox_table).values(created_at=old))
        assert redrive(engine, redis_client, max_age_days=7) == 0  # too old to offer again
        with engine.begin() as conn:
            conn.execute(sa.update(outbox_table).values(created_at=datetime.now(UTC)))
        assert redrive(engine, redis_client, max_age_days=7) == 1
        drain(Settings.from_env(env), redis_client)
        assert outbox_rows(database_url)[0].delivered and hook.ids() == [row.event_id]
        assert purge(engine, retention_days=1) == 0  # delivered just now: kept
        with engine.begin() as conn:
            conn.execute(sa.update(outbox_table).values(delivered_at=old))
        assert purge(engine, retention_days=1) == 1 and outbox_rows(database_url) == []
    finally:
        engine.dispose()
