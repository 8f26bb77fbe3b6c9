"""A test's per-case results reach KCIDB, whenever the enrich queue fetches them: a submission
is built when it is delivered, from the store, and cases stored after the test's event was
delivered are submitted by a `cases` event of their own. Against the stand-ins of TuxSuite's
API and of KCIDB, which validates every submission with kcidb-io."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from shared.constants import ENRICH_QUEUE, KINDS, NOTIFY_QUEUE
from shared.settings import Settings
from tests.conftest import serving
from tests.support.api import post_document
from tests.support.builders import callback
from tests.support.keys import KeyPair
from tests.support.notify_files import (
    KCIDB_TOKEN,
    kcidb_sink,
    rule,
    webhook_sink,
    write_notify_file,
)
from tests.support.outbox import outbox_rows
from tests.support.sinks import KcidbStandIn, WebhookReceiver
from tests.support.tuxsuite_api import TuxSuiteAPI, cases_document, results, tuxsuite_api
from tests.support.workers import drain
from worker.context import CONTEXT
from worker.enrich import fetch_cases

ORIGIN = "tuxhook_test"
SUITES = {"boot": "pass", "ltp-smoke": "fail"}
ANSWERED = cases_document(
    {"boot": {"boot-test": "pass"}, "1_ltp-smoke": {"abort01": "pass", "chdir01": "fail"}}
)


@pytest.fixture
def api() -> Iterator[TuxSuiteAPI]:
    with tuxsuite_api() as served:
        yield served


@pytest.fixture
def kcidb() -> Iterator[KcidbStandIn]:
    with KcidbStandIn(KCIDB_TOKEN).running() as server:
        assert isinstance(server, KcidbStandIn)
        yield server


def notify_settings(
    env: dict[str, str], folder: Path, api: TuxSuiteAPI, hook: WebhookReceiver, kcidb: KcidbStandIn
) -> Settings:
    path = write_notify_file(
        folder,
        webhook_sink("hook", hook.url("/hook")),
        kcidb_sink("kernelci", kcidb.url("/submit"), origin=ORIGIN),
        rule(["outcome"], ["hook", "kernelci"]),
    )
    return Settings.from_env(
        {
            **env,
            "TUXHOOK_NOTIFY_FILE": str(path),
            "TUXHOOK_TUXSUITE_API_URL": api.url,
            "TUXHOOK_TUXSUITE_TOKEN": "tuxsuite-token",
        }
    )


async def deliver_test(settings: Settings, keys: KeyPair, api: TuxSuiteAPI) -> str:
    doc = callback("test", state="finished", project="demo/demo", result="fail", results=SUITES)
    uid: str = doc["status"]["uid"]
    api.answer(uid, results(ANSWERED))
    async with serving(settings) as receiver:
        await post_document(receiver, keys, doc)
    return uid


def statuses(submission: dict[str, Any]) -> dict[str, str]:
    return {t["id"]: t.get("status", "-") for t in submission["tests"]}


def expected(uid: str, *, with_cases: bool) -> dict[str, str]:
    suites = {f"{ORIGIN}:{uid}.boot": "PASS", f"{ORIGIN}:{uid}.ltp-smoke": "FAIL"}
    cases = {
        f"{ORIGIN}:{uid}/boot/boot-test": "PASS",
        f"{ORIGIN}:{uid}/ltp-smoke/abort01": "PASS",
        f"{ORIGIN}:{uid}/ltp-smoke/chdir01": "FAIL",
    }
    return {**suites, **cases} if with_cases else suites


async def test_cases_fetched_after_the_test_was_submitted_are_submitted_again(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    api: TuxSuiteAPI,
    hook: WebhookReceiver,
    kcidb: KcidbStandIn,
    tmp_path: Path,
    database_url: str,
) -> None:
    settings = notify_settings(store_env, tmp_path, api, hook, kcidb)
    uid = await deliver_test(settings, keys, api)
    drain(settings, redis_client, (*KINDS, NOTIFY_QUEUE))  # the test's event, before its cases
    drain(settings, redis_client, (ENRICH_QUEUE, NOTIFY_QUEUE))
    first, second = kcidb.submissions
    assert statuses(first) == expected(uid, with_cases=False)
    assert statuses(second) == expected(uid, with_cases=True)
    paths = {t["id"].rpartition("/")[2]: t["path"] for t in second["tests"]}
    assert paths["chdir01"] == "ltp-smoke.chdir01" and paths["boot-test"] == "boot.boot-test"
    [build_id] = {t["build_id"] for t in first["tests"]}  # the build the test waited for
    assert {t["build_id"] for t in second["tests"]} == {build_id}
    assert kcidb.refused == []
    rows = outbox_rows(database_url)
    assert sorted((r.type, r.sink) for r in rows) == [
        ("cases", "kernelci"),
        ("outcome", "hook"),
        ("outcome", "kernelci"),
    ]
    assert all(r.delivered and r.attempts == 1 for r in rows)
    [cases_row] = [r for r in rows if r.type == "cases"]
    assert cases_row.event["outcome"]["uid"] == uid
    assert [d.event["type"] for d in hook.received] == ["outcome"]  # cases go to KCIDB alone


async def test_cases_fetched_before_the_delivery_ride_with_the_tests_event(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    api: TuxSuiteAPI,
    hook: WebhookReceiver,
    kcidb: KcidbStandIn,
    tmp_path: Path,
    database_url: str,
) -> None:
    settings = notify_settings(store_env, tmp_path, api, hook, kcidb)
    uid = await deliver_test(settings, keys, api)
    drain(settings, redis_client)  # the test, its fetch, then the deliveries
    assert len(kcidb.submissions) == 2 and kcidb.refused == []
    for submission in kcidb.submissions:  # each replaces the other's objects: the same ids
        assert statuses(submission) == expected(uid, with_cases=True)


async def test_a_fetch_run_again_with_the_same_cases_adds_no_event(
    store_env: dict[str, str],
    keys: KeyPair,
    redis_client: Redis,
    api: TuxSuiteAPI,
    hook: WebhookReceiver,
    kcidb: KcidbStandIn,
    tmp_path: Path,
    database_url: str,
) -> None:
    settings = notify_settings(store_env, tmp_path, api, hook, kcidb)
    uid = await deliver_test(settings, keys, api)
    drain(settings, redis_client)
    before = outbox_rows(database_url)
    CONTEXT.configure(settings)
    try:
        assert fetch_cases({"uid": uid}) == "stored"
    finally:
        CONTEXT.close()
    assert outbox_rows(database_url) == before and api.fetches(uid) == 2
