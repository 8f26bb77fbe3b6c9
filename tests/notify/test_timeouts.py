"""A sink that takes the connection and answers only after its `timeout_seconds`: the attempt
gives up, the job is retried, the retry carries the same event id, and the event is delivered
once the sink answers in time. Each sink type honours its own timeout, apprise's URLs too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from shared.errors import SinkUnavailable
from shared.notify_config import AppriseSink, KcidbSink, Sink, WebhookSink
from shared.settings import Secret, Settings
from tests.conftest import serving
from tests.support.api import post_document
from tests.support.builders import callback
from tests.support.keys import KeyPair
from tests.support.notify_files import KCIDB_TOKEN, SECRET, rule, webhook_sink, write_notify_file
from tests.support.outbox import OutboxRow, outbox_rows
from tests.support.sinks import JsonEndpoint, KcidbStandIn, LoopbackServer, WebhookReceiver
from tests.support.workers import drain
from worker.notify.sinks import send

TIMEOUT_S = 1.0  # the sinks' timeout_seconds in these tests
LATE_S = 3.0  # seconds a stalled sink takes to answer: past the timeout
RETRIED_WITHIN_S = 30.0  # seconds for the retry (due 1 s after the first attempt) to deliver


def sink_for(kind: str, server: LoopbackServer) -> Sink:
    if kind == "webhook":
        return WebhookSink("hook", server.url("/hook"), (Secret(SECRET),), TIMEOUT_S)
    if kind == "kcidb":
        return KcidbSink("k", server.url("/submit"), Secret(KCIDB_TOKEN), "o", TIMEOUT_S)
    url = f"json://127.0.0.1:{server.port}/notify"
    return AppriseSink("chat", (Secret(url),), TIMEOUT_S)


def stand_in(kind: str) -> LoopbackServer:
    if kind == "webhook":
        return WebhookReceiver(SECRET)
    if kind == "kcidb":
        return KcidbStandIn(KCIDB_TOKEN)
    return JsonEndpoint()


@pytest.fixture(params=["webhook", "kcidb", "apprise"])
def stalled_sink(request: pytest.FixtureRequest) -> Iterator[Sink]:
    server = stand_in(request.param)
    server.stalls = [LATE_S]
    with server.running():
        yield sink_for(request.param, server)


def test_each_sink_type_gives_up_after_its_timeout(stalled_sink: Sink) -> None:
    """A stall of 3 s is within apprise's own default timeouts (4 s): a failure here is the
    sink's timeout_seconds at work, for apprise as for the sinks tuxhook posts to itself."""
    event = '{"id": "evt_t", "type": "test", "outcome": null, "url": null}'
    with pytest.raises(SinkUnavailable):
        send(stalled_sink, "evt_t", event)


def delivered_row(settings: Settings, redis: Redis, url: str) -> OutboxRow:
    """Run the queues until the one outbox row is delivered: the retry is due 1 s after the
    first attempt, and a pass runs only what is due."""
    deadline = time.monotonic() + RETRIED_WITHIN_S
    while True:
        drain(settings, redis)
        [row] = outbox_rows(url)
        if row.delivered or time.monotonic() > deadline:
            return row
        time.sleep(0.2)


async def test_a_delivery_that_timed_out_is_retried_with_the_same_event_id(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    hook: WebhookReceiver,
    tmp_path: Path,
    database_url: str,
) -> None:
    path = write_notify_file(
        tmp_path,
        webhook_sink("hook", hook.url("/hook"), timeout_s=TIMEOUT_S),
        rule(["outcome"], ["hook"]),
    )
    settings = Settings.from_env({**store_env, "TUXHOOK_NOTIFY_FILE": str(path)})
    hook.stalls = [LATE_S]
    async with serving(settings) as receiver:
        await post_document(receiver, keys, callback("build", result="pass"))
    drain(settings, redis_client)
    [row] = outbox_rows(database_url)
    assert not row.delivered and row.attempts == 1
    assert row.last_error is not None and "did not answer: timed out" in row.last_error
    row = delivered_row(settings, redis_client, database_url)
    assert row.delivered and row.attempts == 2
    # The receiver took the first attempt too, answering too late: the same id both times,
    # which a receiver dropping repeats by webhook-id sees once.
    assert hook.late == [row.event_id] and hook.ids() == [row.event_id]
