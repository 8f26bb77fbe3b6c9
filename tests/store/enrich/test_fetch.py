"""Per-case results from TuxSuite's API (the enrich queue), against a stand-in of the API on
loopback: fetched after a finished test is stored, retried on a 5xx, recorded when there are
none, bounded in size, stored once however often the fetch runs.

Callbacks go through the receiver; one in-process pass of a SimpleWorker over every queue runs
the test's job, then the fetch it queued.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from redis import Redis

from shared.constants import (
    CASES_DOCUMENT_MAX_BYTES,
    CASES_MAX,
    ENRICH_HANDLER_PATH,
    ENRICH_QUEUE,
)
from shared.db.schema import case_fetches, test_cases
from shared.settings import Settings
from tests.store.enrich.conftest import TOKEN, Runs
from tests.support.api import post_document
from tests.support.builders import callback
from tests.support.database import engine_for
from tests.support.jobs import fetch, queue
from tests.support.keys import KeyPair
from tests.support.queues import failed_job_ids, make_scheduled_due, scheduled_job_ids
from tests.support.redis_server import free_port
from tests.support.tuxsuite_api import (
    Answer,
    TuxSuiteAPI,
    cases_document,
    results,
)
from tests.support.workers import drain
from worker.enrich import ENRICH_RETRY

FIFTY_MB = 50 * 1000 * 1000

# What TuxSuite's API answers for a test, and the cases SQUAD makes of it: `lava` left out,
# the numeric prefix of `1_ltp-smoke` stripped, a case without a result left out.
ANSWERED = {
    **cases_document(
        {
            "boot": {"boot-test": "pass"},
            "1_ltp-smoke": {"abort01": "pass", "chdir01": "fail", "fork01": "skip"},
            "lava": {"job": "pass", "login-action": "pass"},
        }
    ),
    "kselftest-timers": {"nanosleep": {"result": "pass"}, "raw_skew": {"log": []}},
}
CASES = {
    "boot/boot-test": "pass",
    "kselftest-timers/nanosleep": "pass",
    "ltp-smoke/abort01": "pass",
    "ltp-smoke/chdir01": "fail",
    "ltp-smoke/fork01": "skip",
}


def unavailable(error: str) -> dict[str, Any]:
    return {"count": 0, "error": error, "results": {}, "next_cursor": None}


def stored_cases(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(*t.c))]
                for t in (test_cases, case_fetches)
            }
    finally:
        engine.dispose()


async def test_a_finished_tests_cases_are_fetched_and_stored(
    runs: Runs, api: TuxSuiteAPI, uid: str
) -> None:
    api.answer(uid, results(ANSWERED))
    await runs.finished(uid=uid)
    cases = await runs.cases(uid)
    assert cases == {"count": len(CASES), "error": None, "results": CASES, "next_cursor": None}
    path = f"/v1/groups/demo/projects/demo/tests/{uid}/results"
    assert api.requests == [(path, TOKEN)]


async def test_a_test_not_finished_is_not_fetched(
    runs: Runs, api: TuxSuiteAPI, uid: str, redis_client: Redis
) -> None:
    api.answer(uid, results(ANSWERED))
    await runs.deliver(callback("test", uid, state="running"))
    assert await runs.cases(uid) is None
    assert api.requests == []


async def test_a_500_is_retried_then_stored(
    runs: Runs, api: TuxSuiteAPI, uid: str, redis_client: Redis
) -> None:
    api.answer(uid, Answer(500, b"oops"), Answer(503, b""), results(ANSWERED))
    await runs.finished(uid=uid)
    for _ in range(2):
        assert await runs.cases(uid) is None
        assert len(scheduled_job_ids(redis_client)) == 1  # RQ's retry, on the enrich backoff
        make_scheduled_due(redis_client)
        drain(runs.settings, redis_client)
    assert (await runs.cases(uid))["results"] == CASES
    assert api.fetches(uid) == 3
    assert failed_job_ids(redis_client) == set()


async def test_an_api_that_cannot_be_reached_is_retried(
    runs: Runs, settings_env: dict[str, str], uid: str, redis_client: Redis
) -> None:
    nobody = {**settings_env, "TUXHOOK_TUXSUITE_API_URL": f"http://127.0.0.1:{free_port()}"}
    runs.settings = Settings.from_env(nobody)
    await runs.finished(uid=uid)
    assert await runs.cases(uid) is None
    assert len(scheduled_job_ids(redis_client)) == 1
    assert failed_job_ids(redis_client) == set()


async def test_a_404_is_recorded_on_the_outcome(
    runs: Runs, api: TuxSuiteAPI, uid: str, redis_client: Redis
) -> None:
    await runs.finished(uid=uid)  # the stand-in was told nothing of it: 404
    assert await runs.cases(uid) == unavailable("TuxSuite's API answered HTTP 404")
    assert api.fetches(uid) == 1
    assert scheduled_job_ids(redis_client) == failed_job_ids(redis_client) == set()


NOT_RESULTS = {
    "html": (Answer(200, b"<!DOCTYPE html><p>maintenance</p>"), "something that is not JSON"),
    "list": (Answer(200, b'["boot"]'), "JSON that is not an object of suites"),
    "error": (Answer(200, b'{"error": "no such test"}'), "an error: no such test"),
    "suite": (Answer(200, b'{"boot": "pass"}'), "suite 'boot' without tests"),
}


@pytest.mark.parametrize("answer", NOT_RESULTS.values(), ids=NOT_RESULTS.keys())
async def test_an_answer_that_is_not_results_is_recorded(
    runs: Runs, api: TuxSuiteAPI, uid: str, answer: tuple[Answer, str]
) -> None:
    api.answer(uid, answer[0])
    await runs.finished(uid=uid)
    assert await runs.cases(uid) == unavailable(f"TuxSuite's API answered {answer[1]}")


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_50_mb_answer_is_refused_by_the_bound_unread(
    runs: Runs, api: TuxSuiteAPI, uid: str, declared: bool
) -> None:
    api.answer(uid, Answer(stream_bytes=FIFTY_MB, declared=declared))
    await runs.finished(uid=uid)
    bound = f"TuxSuite's API answered more than {CASES_DOCUMENT_MAX_BYTES} bytes"
    assert await runs.cases(uid) == unavailable(bound)
    # Sent before the client stopped reading: a few MiB of socket buffers past the bound.
    assert api.streamed < FIFTY_MB / 2


async def test_an_answer_of_more_cases_than_the_bound_is_refused(
    runs: Runs, api: TuxSuiteAPI, uid: str
) -> None:
    full = CASES_MAX // 1000
    suites = {f"suite-{s}": {f"case{i}": "pass" for i in range(1000)} for s in range(full)}
    suites[f"suite-{full}"] = {f"case{i}": "fail" for i in range(CASES_MAX % 1000 + 1)}
    api.answer(uid, results(cases_document(suites)))
    await runs.finished(uid=uid)
    refused = f"TuxSuite's API answered more than {CASES_MAX} cases"
    assert await runs.cases(uid) == unavailable(refused)


async def test_a_refused_token_is_recorded_and_the_fetch_can_be_replayed(
    runs: Runs, api: TuxSuiteAPI, uid: str, redis_client: Redis
) -> None:
    api.answer(uid, Answer(401, b'{"error": "bad token"}'), results(ANSWERED))
    await runs.finished(uid=uid)
    refused = "TuxSuite's API answered HTTP 401: check TUXHOOK_TUXSUITE_TOKEN"
    assert await runs.cases(uid) == unavailable(refused)
    (failed,) = failed_job_ids(redis_client)
    queue(redis_client, ENRICH_QUEUE).failed_job_registry.requeue(failed)
    drain(runs.settings, redis_client)
    assert (await runs.cases(uid))["results"] == CASES


async def test_a_failed_fetch_keeps_the_cases_held(runs: Runs, api: TuxSuiteAPI, uid: str) -> None:
    api.answer(uid, results(ANSWERED), Answer(404, b""))
    doc = callback("test", uid, state="finished", project="demo/demo")
    await runs.deliver(doc)
    await runs.deliver({**doc, "status": {**doc["status"], "duration": 118}})  # corrected
    cases = await runs.cases(uid)
    assert (cases["count"], cases["error"]) == (len(CASES), "TuxSuite's API answered HTTP 404")
    assert cases["results"] == CASES


async def test_a_fetch_run_twice_stores_the_same_rows(
    runs: Runs, api: TuxSuiteAPI, uid: str, redis_client: Redis, database_url: str
) -> None:
    api.answer(uid, results(ANSWERED))
    doc = callback("test", uid, state="finished", project="demo/demo")
    await runs.deliver(doc)
    before = stored_cases(database_url)
    assert len(before["test_cases"]) == len(CASES)
    queue(redis_client, ENRICH_QUEUE).enqueue_call(
        ENRICH_HANDLER_PATH, kwargs={"test": {"uid": uid}}
    )
    drain(runs.settings, redis_client)
    redis_client.flushall()  # the jobs are gone: the same delivery is processed again
    await runs.deliver(doc)
    assert api.fetches(uid) == 3
    assert stored_cases(database_url) == before


async def test_a_redelivery_queues_no_second_fetch(
    runs: Runs, api: TuxSuiteAPI, uid: str, keys: KeyPair
) -> None:
    api.answer(uid, results(ANSWERED))
    doc = callback("test", uid, state="finished", project="demo/demo")
    await runs.deliver(doc)
    await runs.deliver(doc)
    assert api.fetches(uid) == 1


async def test_without_the_setting_nothing_is_queued(
    runs: Runs, api: TuxSuiteAPI, settings_env: dict[str, str], uid: str, redis_client: Redis
) -> None:
    without = {k: v for k, v in settings_env.items() if k != "TUXHOOK_TUXSUITE_API_URL"}
    runs.settings = Settings.from_env(without)
    await post_document(runs.receiver, runs.keys, callback("test", uid, state="finished"))
    drain(runs.settings, redis_client)
    assert queue(redis_client, ENRICH_QUEUE).count == 0
    assert len(queue(redis_client, ENRICH_QUEUE).finished_job_registry) == 0
    assert await runs.cases(uid) is None
    assert api.requests == []


async def test_a_project_that_is_not_group_slash_project_is_recorded(
    runs: Runs, api: TuxSuiteAPI, uid: str
) -> None:
    await runs.deliver(callback("test", uid, state="finished", project="lkft"))
    refused = "the test's project 'lkft' is not GROUP/PROJECT"
    assert await runs.cases(uid) == unavailable(refused)
    assert api.requests == []


async def test_a_stale_finished_delivery_queues_no_fetch(
    runs: Runs, api: TuxSuiteAPI, uid: str
) -> None:
    api.answer(uid, results(ANSWERED))
    later = callback("test", uid, state="finished", finished_time="2024-05-01T10:09:30")
    earlier = {**later, "status": {**later["status"], "finished_time": "2024-05-01T10:05:00"}}
    await runs.deliver(later)
    await runs.deliver(earlier)  # loses to the later one: only counted
    assert api.fetches(uid) == 1


FAILED_JOBS = {
    "unknown-test": ({"uid": "NoSuchTest"}, "there is no test outcome with uid 'NoSuchTest'"),
    "no-uid": ({}, "the enrich job does not name a test uid"),
}


@pytest.mark.parametrize("job", FAILED_JOBS.values(), ids=FAILED_JOBS.keys())
def test_a_fetch_that_cannot_be_made_fails_at_once(
    settings: Settings, redis_client: Redis, job: tuple[dict[str, Any], str]
) -> None:
    queued = queue(redis_client, ENRICH_QUEUE).enqueue_call(
        ENRICH_HANDLER_PATH, kwargs={"test": job[0]}, retry=ENRICH_RETRY
    )
    drain(settings, redis_client)
    assert failed_job_ids(redis_client) == {queued.id}
    assert fetch(redis_client, queued.id).meta["failure"] == f"permanent: PermanentError: {job[1]}"


def test_a_worker_without_the_setting_fails_a_fetch_at_once(
    settings_env: dict[str, str], redis_client: Redis
) -> None:
    without = {k: v for k, v in settings_env.items() if k != "TUXHOOK_TUXSUITE_API_URL"}
    queued = queue(redis_client, ENRICH_QUEUE).enqueue_call(
        ENRICH_HANDLER_PATH, kwargs={"test": {"uid": "AnyTest"}}, retry=ENRICH_RETRY
    )
    drain(Settings.from_env(without), redis_client)
    assert failed_job_ids(redis_client) == {queued.id}
    assert "TUXHOOK_TUXSUITE_API_URL is not set" in fetch(redis_client, queued.id).meta["failure"]


async def test_an_api_url_with_credentials_beside_the_token_fails_at_once(
    runs: Runs, settings_env: dict[str, str], api: TuxSuiteAPI, uid: str, redis_client: Redis
) -> None:
    with_password = api.url.replace("http://", "http://user:secret-password@")
    runs.settings = Settings.from_env({**settings_env, "TUXHOOK_TUXSUITE_API_URL": with_password})
    await runs.finished(uid=uid)
    (failed,) = failed_job_ids(redis_client)
    failure = fetch(redis_client, failed).meta["failure"]
    assert failure.startswith("permanent: PermanentError: cannot fetch from TuxSuite's API")
    assert "secret-password" not in failure
    assert api.requests == []
