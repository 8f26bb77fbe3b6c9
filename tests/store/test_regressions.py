"""Regressions and fixes, compared as runs are stored: the same whatever the arrival order."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from shared.db.regressions import transitions_of
from tests.support.database import engine_for, snapshot, truncate
from tests.support.series import (
    a_test,
    build,
    delivery_of,
    series,
    standing,
    store_doc,
    uid,
)
from worker import chain
from worker.outcome import update_from_job
from worker.store import comparing, upsert_values


def ltp_series(*results: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A build per commit, and a test of it whose ltp-smoke has each result in turn."""
    builds = [build(c, "arm64", "gcc-13") for c in range(len(results))]
    runs = [
        a_test(b, c, 10, {"ltp-smoke": r})
        for c, (b, r) in enumerate(zip(builds, results, strict=True))
    ]
    return builds, runs


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = engine_for(database_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_a_series_gives_the_same_transitions_whatever_the_order(
    engine: sa.Engine, database_url: str, seed: int | None
) -> None:
    s = series()
    docs = list(s.docs)
    if seed is not None:
        random.Random(seed).shuffle(docs)
    for doc in docs:
        store_doc(engine, doc)
    assert standing(engine) == s.expected
    stored = snapshot(database_url)
    superseded = [r for r in stored["regressions"] if r["superseded_at"] is not None]
    assert all(r["superseded_by"] for r in superseded)
    if seed is None:  # in order, nothing arrives late: nothing is superseded
        assert superseded == []
    for doc in docs:  # redeliveries change nothing
        assert store_doc(engine, doc)[1] == "duplicate"
    assert snapshot(database_url) == stored


def test_a_late_run_splits_a_transition_and_supersedes_it(engine: sa.Engine) -> None:
    builds, runs = ltp_series("pass", "fail", "fail")
    for doc in (*builds, runs[0], runs[2]):
        store_doc(engine, doc)
    assert standing(engine) == {("regression", "ltp-smoke", uid(runs[0]), uid(runs[2]))}
    digest, _ = store_doc(engine, runs[1])
    assert standing(engine) == {("regression", "ltp-smoke", uid(runs[0]), uid(runs[1]))}
    with engine.connect() as conn:
        events = transitions_of(conn, digest)
    assert sorted((e, t["before"]["uid"], t["after"]["uid"]) for e, t in events) == [
        ("regression", uid(runs[0]), uid(runs[1])),
        ("superseded", uid(runs[0]), uid(runs[2])),
    ]
    events.sort(key=lambda event: event[0])
    assert events[0][1]["environment"] == {
        "project": "lkft/mainline", "device": "qemu-arm64", "target_arch": "arm64",
        "toolchain": "gcc-13", "kconfig": builds[0]["status"]["kconfig"],
    }  # fmt: skip
    assert events[0][1]["before"]["git_describe"] == "v6.0"


def test_a_test_is_compared_when_its_build_arrives(engine: sa.Engine) -> None:
    builds, runs = ltp_series("pass", "fail")
    for doc in (builds[0], runs[0], runs[1]):
        store_doc(engine, doc)
    assert standing(engine) == set()
    digest, _ = store_doc(engine, builds[1])
    assert standing(engine) == {("regression", "ltp-smoke", uid(runs[0]), uid(runs[1]))}
    with engine.connect() as conn:
        assert [e for e, _ in transitions_of(conn, digest)] == ["regression"]


def chained_series() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Two commits' builds, each with a sanity test and a test that waited for it (TEST#),
    whose kselftest breaks: the callbacks but the last chained test, the last, and its before."""
    builds = [build(c, "arm64", "gcc-13") for c in range(2)]
    sanity = [a_test(b, c, 5, {"boot": "pass"}) for c, b in enumerate(builds)]
    chained = [a_test(None, c, 15, {"kselftest": r}) for c, r in enumerate(("pass", "fail"))]
    for test, parent in zip(chained, sanity, strict=True):
        test["status"]["waiting_for"] = f"TEST#{uid(parent)}"
    return [*builds, *sanity, chained[0]], chained[1], chained[0]


@pytest.mark.postgres
def test_a_job_run_again_after_dying_before_its_links_compares_what_they_gave(
    postgres_database: str,
) -> None:
    """On PostgreSQL a test's links are resolved after its delivery's commit (which held its
    comparison), and the tests they gave a build to are compared with them: a worker that died
    between the two left a TEST# test without a build, so uncompared; the job's retry (a
    duplicate) resolves and compares it."""
    truncate(postgres_database)
    engine = engine_for(postgres_database)
    try:
        stored, last, before = chained_series()
        for doc in stored:
            store_doc(engine, doc)
        change = update_from_job("test", delivery_of(last).to_job())
        now = change.received_at
        values = upsert_values(change, now)
        then = comparing(change, now)
        assert chain.save(engine, values, change.digest, change.results, then=then) == "applied"
        assert standing(engine) == set()  # the worker died here
        assert store_doc(engine, last)[1] == "duplicate"
        assert standing(engine) == {("regression", "kselftest", uid(before), uid(last))}
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_job_that_dies_inside_its_transaction_leaves_nothing_and_its_retry_compares(
    postgres_database: str,
) -> None:
    """On PostgreSQL the delivery's statement and its comparison are one transaction: a
    worker that dies between them stores neither, and the job's retry stores both."""
    truncate(postgres_database)
    engine = engine_for(postgres_database)
    try:
        builds, runs = ltp_series("pass", "fail")
        for doc in (*builds, runs[0]):
            store_doc(engine, doc)
        before = snapshot(postgres_database)
        change = update_from_job("test", delivery_of(runs[1]).to_job())

        def dies(conn: sa.Connection, done: str) -> None:
            assert done == "applied"
            raise KeyboardInterrupt  # as a worker killed mid-job: nothing caught it

        values = upsert_values(change, change.received_at)
        with pytest.raises(KeyboardInterrupt):
            chain.save(engine, values, change.digest, change.results, then=dies)
        assert snapshot(postgres_database) == before
        assert store_doc(engine, runs[1])[1] == "applied"
        assert standing(engine) == {("regression", "ltp-smoke", uid(runs[0]), uid(runs[1]))}
    finally:
        engine.dispose()


def test_a_test_name_too_long_for_an_index_is_compared_by_none_and_the_run_stored(
    engine: sa.Engine,
) -> None:
    """A name the store refuses as a result (a field error) is no result to compare either: on
    PostgreSQL a transition of a few-kB name would not fit the regressions' index and fail the
    delivery's whole transaction."""
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    long = "ltp-" + "".join(random.Random(0).choices(letters, k=4000))  # compresses poorly
    b0, b1 = build(0, "arm64", "gcc-13"), build(1, "arm64", "gcc-13")
    t0 = a_test(b0, 0, 10, {"boot": "pass", long: "pass"})
    t1 = a_test(b1, 1, 10, {"boot": "fail", long: "fail"})
    for doc in (b0, t0, b1, t1):
        store_doc(engine, doc)
    assert standing(engine) == {("regression", "boot", uid(t0), uid(t1))}
