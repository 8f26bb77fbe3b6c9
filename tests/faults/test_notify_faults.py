"""Notifications under faults, with real receiver and worker processes: a worker SIGKILLed
between its commit and its hand-off, a sink down for 30 s, a sink answering 500 twice. Every
event is delivered, and each receiver that drops repeats (the webhook receiver by event id,
KCIDB by object id) sees every one, and none twice once repeats are dropped."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from tests.support.burst import Sender, Sent, callbacks
from tests.support.database import SQLITE_NOW_POSTGRES_IN_SOAK, write_lock_held
from tests.support.keys import KeyPair
from tests.support.notify_files import (
    KCIDB_TOKEN,
    SECRET,
    kcidb_sink,
    outbox,
    rule,
    webhook_sink,
    write_notify_file,
)
from tests.support.outbox import outbox_rows
from tests.support.processes import Process, start_receiver, start_worker
from tests.support.sinks import KcidbStandIn, WebhookReceiver
from tests.support.waiting import eventually

DELIVERED_WITHIN_S = 90.0  # seconds for every event to reach its sinks once they answer
RETRIED_WITHIN_S = 60.0  # seconds for every event to have been tried twice
DOWN_S = 30.0  # seconds a sink is down


@contextmanager
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in started:
            process.stop()


def notify_env(
    env: dict[str, str], folder: Path, hook: WebhookReceiver, kcidb: KcidbStandIn
) -> dict[str, str]:
    path = write_notify_file(
        folder,
        webhook_sink("hook", hook.url("/hook")),
        kcidb_sink("kernelci", kcidb.url("/submit")),
        rule(["outcome"], ["hook", "kernelci"]),
        outbox(1),
    )
    return {**env, "TUXHOOK_NOTIFY_FILE": str(path), "TUXHOOK_WORKER_MAINTENANCE_INTERVAL": "1"}


def builds(keys: KeyPair, count: int) -> list[Sent]:
    return [s for s in callbacks(keys, count * 4) if s.kind == "build"][:count]


def every_event_seen_once(hook: WebhookReceiver, kcidb: KcidbStandIn, sent: list[Sent]) -> bool:
    uids = {s.uid for s in sent}
    seen = {d.event["outcome"]["uid"] for d in hook.received}
    builds_seen = {i.partition(":")[2] for i in kcidb.object_ids("builds")}
    return seen == uids and builds_seen == uids


def check_once(hook: WebhookReceiver, kcidb: KcidbStandIn, sent: list[Sent], url: str) -> None:
    """Every event delivered; after dropping repeats by id, each seen exactly once."""
    rows = outbox_rows(url)
    assert len(rows) == 2 * len(sent) and all(r.delivered for r in rows)
    assert set(hook.ids()) == {r.event_id for r in rows if r.sink == "hook"}
    assert {d.event["outcome"]["uid"] for d in hook.received} == {s.uid for s in sent}
    build_ids = Counter(kcidb.object_ids("builds"))
    assert set(build_ids) == {f"tuxhook_test:{s.uid}" for s in sent}
    assert hook.unverified == 0 and kcidb.refused == []


@pytest.fixture
def sinks() -> Iterator[tuple[WebhookReceiver, KcidbStandIn]]:
    hook, kcidb = WebhookReceiver(SECRET), KcidbStandIn(KCIDB_TOKEN)
    try:
        yield hook, kcidb
    finally:
        hook.stop()
        kcidb.stop()


async def test_a_sink_answering_500_twice_then_200_gets_every_event(
    store_env: dict[str, str],
    keys: KeyPair,
    sinks: tuple[WebhookReceiver, KcidbStandIn],
    database_url: str,
    port: int,
    tmp_path: Path,
) -> None:
    hook, kcidb = sinks
    hook.script, kcidb.script = [500, 500], [500, 500]
    hook.start()
    kcidb.start()
    env = notify_env(store_env, tmp_path, hook, kcidb)
    sent = builds(keys, 6)
    with processes() as started:
        started.append(start_receiver(env, port, tmp_path / "receiver.log"))
        started.append(start_worker(env, tmp_path / "worker.log"))
        await Sender(f"http://127.0.0.1:{port}").send_all(sent)
        await eventually(
            lambda: every_event_seen_once(hook, kcidb, sent), "delivered", DELIVERED_WITHIN_S
        )
    check_once(hook, kcidb, sent, database_url)
    assert hook.script == [] and kcidb.script == []  # both 500s were answered, and retried


@pytest.mark.slow
@pytest.mark.timeout(RETRIED_WITHIN_S + DOWN_S + DELIVERED_WITHIN_S + 30)
@pytest.mark.parametrize("database_url", SQLITE_NOW_POSTGRES_IN_SOAK, indirect=True)
async def test_a_sink_down_for_30_s_gets_every_event_once_back(
    store_env: dict[str, str],
    keys: KeyPair,
    sinks: tuple[WebhookReceiver, KcidbStandIn],
    database_url: str,
    port: int,
    tmp_path: Path,
) -> None:
    hook, kcidb = sinks  # not started: down
    env = notify_env(store_env, tmp_path, hook, kcidb)
    sent = builds(keys, 6)
    with processes() as started:
        started.append(start_receiver(env, port, tmp_path / "receiver.log"))
        started.append(start_worker(env, tmp_path / "worker.log"))
        down_since = time.monotonic()
        await Sender(f"http://127.0.0.1:{port}").send_all(sent)
        await eventually(
            lambda: (
                all(r.attempts >= 2 for r in outbox_rows(database_url))
                and len(outbox_rows(database_url)) == 2 * len(sent)
            ),
            "retried while the sinks are down",
            RETRIED_WITHIN_S,
        )
        time.sleep(max(0.0, DOWN_S - (time.monotonic() - down_since)))
        hook.start()
        kcidb.start()
        await eventually(
            lambda: every_event_seen_once(hook, kcidb, sent), "delivered", DELIVERED_WITHIN_S
        )
    check_once(hook, kcidb, sent, database_url)


async def test_a_worker_killed_between_commit_and_hand_off_loses_no_event(
    store_env: dict[str, str],
    keys: KeyPair,
    sinks: tuple[WebhookReceiver, KcidbStandIn],
    redis_client: Redis,
    database_url: str,
    port: int,
    tmp_path: Path,
) -> None:
    """The victim stores a build and commits; Redis then takes no writes, so its hand-off
    cannot queue the events, and it is SIGKILLed there. The notify worker's sweep hands them
    over once Redis is back."""
    hook, kcidb = sinks
    hook.start()
    kcidb.start()
    env = notify_env(store_env, tmp_path, hook, kcidb) | {"TUXHOOK_DATABASE_LOCK_TIMEOUT": "20"}
    sent = builds(keys, 1)
    with processes() as started:
        started.append(start_receiver(env, port, tmp_path / "receiver.log"))
        victim = start_worker(env, tmp_path / "victim.log", "build")
        started.append(victim)
        with write_lock_held(database_url):
            await Sender(f"http://127.0.0.1:{port}").send_all(sent)
            await eventually(lambda: victim_busy(redis_client), "the victim in its job")
            redis_client.client_pause(20000, all=False)  # writes wait; reads go on
        try:
            # The lock is released: the victim commits, then waits for Redis in its hand-off.
            await eventually(lambda: len(outbox_rows(database_url)) == 2, "committed")
            time.sleep(0.5)
            victim.kill_tree()
            assert not any(r.handed for r in outbox_rows(database_url))
        finally:
            redis_client.client_unpause()
        started.append(start_worker(env, tmp_path / "notify.log", "notify"))
        await eventually(
            lambda: every_event_seen_once(hook, kcidb, sent), "delivered", DELIVERED_WITHIN_S
        )
    check_once(hook, kcidb, sent, database_url)
    assert all(r.handed for r in outbox_rows(database_url))


def victim_busy(redis: Redis) -> bool:
    queue = Queue("build", connection=redis, serializer=JSONSerializer)
    return len(queue.started_job_registry.get_job_ids()) == 1
