"""GET /metrics, parsed with prometheus_client's parser, against what really happened."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from redis import Redis
from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer
from structlog.testing import capture_logs

from receiver.app import create_app
from shared.constants import JOB_METRICS_KEY
from shared.redis_conn import connect
from shared.settings import Settings
from tests.conftest import Receiver, serve
from tests.support.builders import signed_callback, signed_headers
from tests.support.jobs import FAIL, enqueue, failed_jobs, retried_job, work
from tests.support.keys import KeyPair
from tests.support.metrics import scrape, value
from tests.support.redis_server import free_port
from tests.support.workers import PassWorker
from worker.metrics import record_job
from worker.rq.metered import MeteredWorker

CALLBACK = "/v1/callbacks/tuxsuite"


async def post(receiver: Receiver, body: bytes, headers: dict[str, str]) -> int:
    async with receiver.http.post(receiver.at(CALLBACK), data=body, headers=headers) as resp:
        return resp.status


async def test_callbacks_are_counted_by_kind_outcome_and_cause(
    receiver: Receiver, keys: KeyPair
) -> None:
    for kind, count in (("build", 3), ("test", 2)):
        for _ in range(count):
            assert await post(receiver, *signed_callback(keys, kind=kind)) == 202
    body, headers = signed_callback(keys, kind="build")
    assert [await post(receiver, body, headers) for _ in range(2)] == [202, 200]
    other, _ = signed_callback(keys)
    refusals = [
        (other, signed_headers(keys, body), 401),  # signature of another body
        (body, {"Content-Type": "application/json"}, 401),  # no signature
        (b"{not json", signed_headers(keys, b"{not json"), 400),
        (body, headers | {"Content-Type": "text/plain"}, 415),
    ]
    for refused, refused_headers, status in refusals:
        assert await post(receiver, refused, refused_headers) == status
    async with receiver.http.get(receiver.at("/healthz")) as resp:
        assert resp.status == 200

    m = await scrape(receiver.url, receiver.http)
    callbacks = "tuxhook_callbacks_total"
    assert value(m, callbacks, kind="build", outcome="accepted") == 4
    assert value(m, callbacks, kind="test", outcome="accepted") == 2
    assert value(m, callbacks, kind="build", outcome="duplicate") == 1
    assert value(m, callbacks, kind="unknown", outcome="rejected") == 4
    assert value(m, callbacks, kind="plan", outcome="accepted") == 0
    causes = ("bad_signature", "missing_signature", "invalid_json", "unsupported_media_type")
    for cause in causes:
        assert value(m, "tuxhook_callback_rejections_total", cause=cause) == 1
    assert value(m, "tuxhook_enqueue_duration_seconds_count") == 7  # 6 queued + 1 duplicate
    assert value(m, "tuxhook_enqueue_duration_seconds_bucket", le="+Inf") == 7
    assert value(m, "tuxhook_queue_depth", queue="build") == 4
    assert value(m, "tuxhook_queue_depth", queue="test") == 2
    assert 0 <= value(m, "tuxhook_queue_oldest_job_age_seconds", queue="build") < 30
    assert value(m, "tuxhook_queue_oldest_job_age_seconds", queue="plan") == 0
    assert value(m, "tuxhook_redis_up") == 1


async def test_failed_registry_and_workers_alive(receiver: Receiver, redis_client: Redis) -> None:
    failed_jobs(redis_client, "build", 2)
    failed_jobs(redis_client, "test", 1)
    # Typed Any: RQ leaves register_birth/death unannotated.
    workers: list[Any] = [
        Worker(["build"], connection=redis_client, serializer=JSONSerializer) for _ in "ab"
    ]
    for w in workers:
        w.register_birth()
    m = await scrape(receiver.url, receiver.http)
    assert value(m, "tuxhook_failed_jobs", queue="build") == 2
    assert value(m, "tuxhook_failed_jobs", queue="test") == 1
    assert value(m, "tuxhook_workers_alive") == 2
    workers[0].register_death()
    m = await scrape(receiver.url, receiver.http)
    assert value(m, "tuxhook_workers_alive") == 1


async def test_job_outcomes_reported_by_the_worker_class(
    receiver: Receiver, redis_client: Redis
) -> None:
    for _ in range(2):
        enqueue(redis_client, "build")
    enqueue(redis_client, "build", FAIL)
    retried_job(redis_client, "test")
    work(redis_client, "build", "test", worker_class=MeteredWorker)

    m = await scrape(receiver.url, receiver.http)
    jobs = "tuxhook_jobs_total"
    assert value(m, jobs, queue="build", outcome="succeeded") == 2
    assert value(m, jobs, queue="build", outcome="failed") == 1
    assert value(m, jobs, queue="test", outcome="retried") == 1
    assert value(m, jobs, queue="test", outcome="failed") == 0
    hist = "tuxhook_job_duration_seconds"
    assert value(m, hist + "_count", queue="build", outcome="succeeded") == 2
    assert value(m, hist + "_bucket", queue="build", outcome="succeeded", le="+Inf") == 2
    assert value(m, "tuxhook_queue_scheduled_jobs", queue="test") == 1
    assert value(m, "tuxhook_failed_jobs", queue="build") == 1


class QuietSimpleWorker(SimpleWorker):
    """RQ's own SimpleWorker, without the command channel PassWorker goes without either."""

    def subscribe(self) -> None:
        pass


def test_a_succeeded_job_is_counted_in_rqs_own_transaction(redis_client: Redis) -> None:
    """No round trip of its own: tuxhook's worker makes as many transactions as RQ's."""
    transactions = {}
    for worker_class in (QuietSimpleWorker, PassWorker):
        for _ in range(3):
            enqueue(redis_client, "build")
        redis_client.config_resetstat()
        work(redis_client, "build", worker_class=worker_class)
        transactions[worker_class] = redis_client.info("commandstats")["cmdstat_exec"]["calls"]
    assert transactions[PassWorker] == transactions[QuietSimpleWorker]
    assert redis_client.hget(JOB_METRICS_KEY, "build:succeeded:count") == b"3"


async def test_job_duration_histogram_buckets(receiver: Receiver, redis_client: Redis) -> None:
    for seconds in (0.003, 0.3, 7.0, 100.0):
        record_job(redis_client, "plan", "succeeded", seconds)
    record_job(redis_client, "plan", "failed", 0.01)  # on a bound: le is "at most"

    m = await scrape(receiver.url, receiver.http)
    bucket = "tuxhook_job_duration_seconds_bucket"
    expected = {"0.01": 1, "0.25": 1, "0.5": 2, "5.0": 2, "10.0": 3, "60.0": 3, "+Inf": 4}
    for le, count in expected.items():
        assert value(m, bucket, queue="plan", outcome="succeeded", le=le) == count
    assert value(m, bucket, queue="plan", outcome="failed", le="0.01") == 1
    total = value(m, "tuxhook_job_duration_seconds_sum", queue="plan", outcome="succeeded")
    assert total == pytest.approx(107.303)


@pytest.mark.parametrize(("queue", "outcome"), [("nope", "succeeded"), ("build", "crashed")])
def test_record_job_refuses_unknown_labels(redis_client: Redis, queue: str, outcome: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        record_job(redis_client, queue, outcome, 1.0)


def test_record_job_never_raises_when_redis_is_down() -> None:
    dead = connect(f"redis://127.0.0.1:{free_port()}/0")
    with capture_logs() as logs:
        record_job(dead, "build", "succeeded", 1.0)
    assert [e["event"] for e in logs] == ["job_metrics_not_recorded"]


async def test_without_redis_metrics_still_answer(settings: Settings, keys: KeyPair) -> None:
    server = await serve(settings.replace(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    url = str(server.make_url("")).rstrip("/")
    try:
        async with aiohttp.ClientSession() as http:
            body, headers = signed_callback(keys, kind="oebuild")
            async with http.post(url + CALLBACK, data=body, headers=headers) as resp:
                assert resp.status == 503
            m = await scrape(url, http)
    finally:
        await server.close()
    assert value(m, "tuxhook_redis_up") == 0
    assert value(m, "tuxhook_callbacks_total", kind="oebuild", outcome="failed") == 1
    assert value(m, "tuxhook_callback_rejections_total", cause="queue_unavailable") == 1
    assert not any(name == "tuxhook_queue_depth" for name, _ in m)


def test_each_app_has_its_own_registry(settings: Settings) -> None:
    first, second = create_app(settings), create_app(settings)
    assert first is not second  # a shared global registry would refuse the second set of metrics
