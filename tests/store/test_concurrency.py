"""Two workers on one outcome at once, on PostgreSQL, where a delivery is one statement.

The second worker's statement begins while the first's transaction is open: its snapshot misses
what the first writes, and it waits for the first's row lock. Once the first commits, the second
must notice that its snapshot was not current, and run again: otherwise it would count the same
delivery twice, lose a stale delivery's count, or keep per-test results the first wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from shared.errors import TransientError
from shared.identity import body_digest
from shared.jobs import Delivery
from tests.support.builders import callback, encode, new_uid
from tests.support.database import engine_for, snapshot, truncate
from tests.support.waiting import eventually
from worker import chain
from worker.outcome import Stored, Update, update_from_job
from worker.store import save, upsert_values

pytestmark = pytest.mark.postgres

T1, T2 = "2024-05-01T10:00:00", "2024-05-01T10:05:00"
RESULTS_1 = {"boot": "pass", "ltp-smoke": "fail"}
RESULTS_2 = {"boot": "pass", "kselftest": "skip"}


@pytest.fixture
def url(postgres_database: str) -> str:
    truncate(postgres_database)
    return postgres_database


def change(doc: dict[str, Any]) -> Update:
    body = encode(doc)
    uid = doc["status"]["uid"]
    delivery = Delivery(doc["kind"], uid, body_digest(body), body.decode(), T1, "key:x")
    return update_from_job(doc["kind"], delivery.to_job())


@contextmanager
def stored_uncommitted(url: str, first: Update) -> Iterator[None]:
    """Another worker, mid-transaction: its delivery stored, not yet committed."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn, conn.begin():
            values = upsert_values(first, datetime.now(UTC))
            assert chain.attempt(conn, values, first.digest, first.results) == "applied"
            yield
    finally:
        engine.dispose()


def waiting_for_a_lock(url: str) -> bool:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            query = sa.text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return bool(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


async def store_meanwhile(url: str, first: Update, second: Update) -> Stored:
    """`second` stored while `first` is being stored: the second worker's statement starts
    during the first one's transaction, and waits for it."""
    engine = engine_for(url)
    try:
        with stored_uncommitted(url, first):
            stored = asyncio.create_task(asyncio.to_thread(save, engine, second))
            await eventually(lambda: waiting_for_a_lock(url), "waiting for the first worker")
        return await stored
    finally:
        engine.dispose()


def a_test(uid: str, time: str, results: dict[str, str], state: str = "finished") -> Update:
    return change(callback("test", uid, state=state, finished_time=time, results=results))


def stored_rows(url: str) -> tuple[dict[str, Any], dict[str, str | None], list[bool]]:
    """The one outcome, its per-test results, and the ledger's applied flags."""
    rows = snapshot(url)
    (outcome,) = rows["outcomes"]
    results = {r["name"]: r["result"] for r in rows["test_results"]}
    return outcome, results, sorted(r["applied"] for r in rows["deliveries"])


async def test_a_later_delivery_replaces_the_results_its_snapshot_missed(url: str) -> None:
    uid = new_uid()
    first, second = a_test(uid, T1, RESULTS_1), a_test(uid, T2, RESULTS_2)
    assert await store_meanwhile(url, first, second) == "applied"
    outcome, results, applied = stored_rows(url)
    assert (outcome["deliveries"], outcome["state_time"].isoformat()) == (2, f"{T2}+00:00")
    assert (results, applied) == (RESULTS_2, [True, True])


async def test_a_stale_delivery_is_counted_on_an_outcome_its_snapshot_missed(url: str) -> None:
    uid = new_uid()
    first, second = a_test(uid, T2, RESULTS_1), a_test(uid, T1, RESULTS_2, state="running")
    assert await store_meanwhile(url, first, second) == "stale"
    outcome, results, applied = stored_rows(url)
    assert (outcome["deliveries"], outcome["state"]) == (2, "finished")
    assert (results, applied) == (RESULTS_1, [False, True])


async def test_the_same_delivery_at_once_is_stored_once(url: str) -> None:
    delivery = a_test(new_uid(), T1, RESULTS_1)
    assert await store_meanwhile(url, delivery, delivery) == "duplicate"
    outcome, results, applied = stored_rows(url)
    assert (outcome["deliveries"], results, applied) == (1, RESULTS_1, [True])


async def test_a_delivery_waits_for_one_that_changed_the_outcome_it_saw(url: str) -> None:
    uid = new_uid()
    engine = engine_for(url)
    try:
        assert save(engine, a_test(uid, T1, {"boot": "pass"}, state="running")) == "applied"
    finally:
        engine.dispose()
    first, second = a_test(uid, T1, RESULTS_1), a_test(uid, T2, RESULTS_2)
    assert await store_meanwhile(url, first, second) == "applied"
    outcome, results, applied = stored_rows(url)
    assert (outcome["deliveries"], results, applied) == (3, RESULTS_2, [True, True, True])


async def test_a_delivery_that_keeps_meeting_changes_fails_transiently(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One run only: the one that meets the change gives up, and RQ retries the job later.
    monkeypatch.setattr(chain, "ATTEMPTS", 1)
    uid = new_uid()
    first, second = a_test(uid, T1, RESULTS_1), a_test(uid, T2, RESULTS_2)
    with pytest.raises(TransientError, match="the outcome changed under each of 1 runs"):
        await store_meanwhile(url, first, second)
    outcome, results, applied = stored_rows(url)
    assert (outcome["deliveries"], results, applied) == (1, RESULTS_1, [True])
