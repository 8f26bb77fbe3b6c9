"""A burst of 1,000 callbacks, with a rule that matches every one: each notification is
delivered, and exactly once (no repeat even before dropping repeats), through real receiver and
worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.burst import Sender, callbacks
from tests.support.database import SQLITE_NOW_POSTGRES_IN_SOAK
from tests.support.keys import KeyPair
from tests.support.notify_files import rule, webhook_sink, write_notify_file
from tests.support.outbox import outbox_rows
from tests.support.processes import start_receiver, start_worker
from tests.support.redis_server import free_port
from tests.support.sinks import WebhookReceiver
from tests.support.waiting import eventually

BURST = 1000
DELIVERED_WITHIN_S = 240.0  # seconds for every notification of the burst to be delivered


@pytest.mark.slow
@pytest.mark.timeout(DELIVERED_WITHIN_S + 60)  # a loaded machine: about 50 s on a quiet one
@pytest.mark.parametrize("database_url", SQLITE_NOW_POSTGRES_IN_SOAK, indirect=True)
async def test_a_burst_of_1000_is_notified_exactly_once(
    store_env: dict[str, str],
    keys: KeyPair,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    path = write_notify_file(
        tmp_path, webhook_sink("hook", hook.url("/hook")), rule(["outcome"], ["hook"])
    )
    env = {**store_env, "TUXHOOK_NOTIFY_FILE": str(path)}
    sent = callbacks(keys, BURST)  # every kind in turn, each finished: one `outcome` each
    port = free_port()
    receiver = start_receiver(env, port, tmp_path / "receiver.log")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        await Sender(f"http://127.0.0.1:{port}", concurrency=16).send_all(sent)
        assert all(s.accepted for s in sent)
        await eventually(lambda: len(hook.received) >= BURST, "delivered", DELIVERED_WITHIN_S)
    finally:
        worker.stop()
        receiver.stop()
    ids = hook.ids()
    assert len(ids) == BURST and len(set(ids)) == BURST  # every one, and none twice
    assert {d.event["outcome"]["uid"] for d in hook.received} == {s.uid for s in sent}
    rows = outbox_rows(database_url)
    assert len(rows) == BURST and all(r.delivered and r.attempts == 1 for r in rows)
