"""What the workers store: idempotent, counted, forward-only, null for what is missing.

Callbacks go through the receiver; one in-process pass of a SimpleWorker runs the jobs, so that
each test decides the order in which the deliveries are processed.
"""

from __future__ import annotations

from typing import Any

import pytest
from redis import Redis

from shared.identity import body_digest
from tests.support.api import get_json
from tests.support.builders import callback, encode, new_uid
from tests.support.database import snapshot
from tests.support.store import Store

T1, T2, T3 = "2024-05-01T10:00:00.000001", "2024-05-01T10:05:00", "2024-05-01T10:09:30.5"


async def test_the_same_delivery_processed_twice_leaves_the_same_rows(
    store: Store, redis_client: Redis, database_url: str
) -> None:
    doc = callback("test", results={"boot": "pass", "ltp-smoke": "fail"})
    await store.deliver(doc)
    before = snapshot(database_url)
    # The job and its id are gone from Redis (as after JOB_RESULT_TTL_S), so the receiver
    # queues the identical redelivery again; the store must recognise it.
    redis_client.flushall()
    await store.deliver(doc)
    assert snapshot(database_url) == before
    assert (await store.outcome("test", doc["status"]["uid"]))["deliveries"] == 1


async def test_distinct_deliveries_are_counted(store: Store) -> None:
    uid = new_uid()
    for state in ("provisioning", "running", "finished"):
        await store.deliver(callback("build", uid, state=state))
    found = await store.outcome("build", uid)
    assert (found["state"], found["deliveries"]) == ("finished", 3)
    assert found["first_received_at"] < found["updated_at"]


async def test_a_late_running_never_overwrites_finished(store: Store, database_url: str) -> None:
    uid = new_uid()
    finished = callback("test", uid, state="finished", device="qemu-arm64", result="fail")
    late = callback("test", uid, state="running", device="other", result="pass", results={})
    await store.deliver(finished, late)
    found = await store.outcome("test", uid)
    assert (found["state"], found["device"], found["result"]) == ("finished", "qemu-arm64", "fail")
    assert (found["deliveries"], found["payload"]) == (2, finished)
    applied = {row["digest"]: row["applied"] for row in snapshot(database_url)["deliveries"]}
    assert applied == {body_digest(encode(finished)): True, body_digest(encode(late)): False}


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0), (2, 0, 1)])
async def test_states_only_move_forward_whatever_the_arrival_order(
    store: Store, order: tuple[int, ...]
) -> None:
    uid = new_uid()
    docs = [
        callback("oebuild", uid, state="provisioning", result="unknown"),
        callback("oebuild", uid, state="running", result="unknown"),
        callback("oebuild", uid, state="finished", result="pass", machine="qemux86-64"),
    ]
    await store.deliver(*(docs[i] for i in order))
    found = await store.outcome("oebuild", uid)
    assert (found["state"], found["result"], found["machine"]) == ("finished", "pass", "qemux86-64")
    assert found["deliveries"] == 3


@pytest.mark.parametrize("later_first", [True, False])
async def test_equal_states_are_ordered_by_their_own_times(store: Store, later_first: bool) -> None:
    uid = new_uid()
    early = callback("build", uid, state="finished", finished_time=T1, build_status="fail")
    later = callback("build", uid, state="finished", finished_time=T2, build_status="pass")
    await store.deliver(*((later, early) if later_first else (early, later)))
    found = await store.outcome("build", uid)
    assert (found["build_status"], found["state_time"]) == ("pass", "2024-05-01T10:05:00+00:00")


async def test_missing_fields_are_null_and_unknown_ones_stay_in_the_payload(store: Store) -> None:
    doc = callback("build", warnings_count="two", kconfig=None, brand_new={"field": [1, 2]})
    for name in ("toolchain", "git_sha", "tuxmake_metadata", "duration"):
        del doc["status"][name]
    await store.deliver(doc)
    found = await store.outcome("build", doc["status"]["uid"])
    assert {
        name: found[name] for name in ("toolchain", "git_sha", "warnings_count", "kconfig")
    } == {
        "toolchain": None,
        "git_sha": None,
        "warnings_count": None,
        "kconfig": None,
    }
    assert (found["duration"], found["build_duration"]) == (None, None)
    assert found["field_errors"] == [{"field": "warnings_count", "reason": "not a whole number"}]
    assert found["payload"]["status"]["brand_new"] == {"field": [1, 2]}
    assert found["payload"] == doc


async def test_a_boot_unknown_is_not_final_until_a_retry_finishes(store: Store) -> None:
    uid = new_uid()
    unknown = callback(
        "test", uid, finished_time=T1, result="fail", results={"boot": "unknown"}, retries=0
    )
    await store.deliver(unknown)
    found = await store.outcome("test", uid)
    assert (found["state"], found["result"], found["final"], found["results"]) == (
        "finished",
        "fail",
        False,
        {"boot": "unknown"},
    )
    retried = callback(
        "test", uid, finished_time=T3, result="pass", results={"boot": "pass"}, retries=1
    )
    await store.deliver(retried)
    found = await store.outcome("test", uid)
    assert (found["result"], found["results"], found["retries"]) == ("pass", {"boot": "pass"}, 1)
    assert found["final"]


async def test_per_test_results_follow_the_most_advanced_delivery(store: Store) -> None:
    uid = new_uid()
    await store.deliver(callback("test", uid, state="running", results={"boot": "pass"}))
    results = {"boot": "pass", "ltp-syscalls": "fail", "kselftest": "skip"}
    await store.deliver(callback("test", uid, state="finished", results=results))
    assert (await store.outcome("test", uid))["results"] == results
    no_results = callback("test", uid, state="finished", finished_time=T3)
    del no_results["status"]["results"]
    await store.deliver(no_results)
    assert (await store.outcome("test", uid))["results"] is None


@pytest.mark.parametrize(
    ("waiting_for", "build_uid"),
    [("BUILD#{uid}", "{uid}"), ("{uid}", "{uid}"), ("TEST#{uid}", None), (None, None)],
)
async def test_a_test_is_linked_to_the_build_it_waited_for(
    store: Store, waiting_for: str | None, build_uid: str | None
) -> None:
    build = new_uid()
    given = waiting_for and waiting_for.format(uid=build)
    doc = callback("test", waiting_for=given)
    await store.deliver(callback("build", build), doc)
    found = await store.outcome("test", doc["status"]["uid"])
    assert (found["waiting_for"], found["build_uid"]) == (given, build_uid and build)
    status, page = await get_json(store.receiver, f"/v1/outcomes?build_uid={build}")
    assert status == 200
    assert [o["uid"] for o in page["outcomes"]] == ([doc["status"]["uid"]] if build_uid else [])


async def test_text_beyond_ascii_and_escapes_is_stored_as_given(store: Store) -> None:
    # PostgreSQL's statement carries the row as JSON: nothing in it may be changed on the way.
    texts: dict[str, Any] = {
        "build_name": "gcc-13 · ✓ 😀",
        "git_describe": 'v6.8 "quoted" \\ back\tslash\n',
        "kconfig": ["tinyconfig", 'CONFIG_LOCALVERSION="-é"'],
    }
    doc = callback("build")
    doc["status"].update(texts)
    await store.deliver(doc)
    found = await store.outcome("build", doc["status"]["uid"])
    assert {name: found[name] for name in texts} == texts
    assert found["payload"] == doc
