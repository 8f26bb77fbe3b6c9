"""Per-case results compared as suites are: when the enrich job stores a test's cases, however
long after its outcome, and whatever the order in which runs and cases arrive."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from shared.db.regressions import transitions_of
from tests.support.database import engine_for, snapshot
from tests.support.series import a_test, build, standing, store_doc, uid
from worker.case_store import fetch_digest, find_test, store_cases

CASE = "ltp-smoke/abort01"
# What one action does: store a callback, or a test's fetched cases.
Action = tuple[str, dict[str, Any], dict[str, str]]


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = engine_for(database_url)
    yield engine
    engine.dispose()


def runs(count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A build per commit, and a test of it whose suites all pass."""
    builds = [build(c, "arm64", "gcc-13") for c in range(count)]
    tests = [a_test(b, c, 10, {"ltp-smoke": "pass"}) for c, b in enumerate(builds)]
    return builds, tests


def fetched(engine: sa.Engine, test: dict[str, Any], cases: dict[str, str]) -> str:
    """Store a test's cases as the enrich job does; the fetch's digest."""
    ref = find_test(engine, uid(test))
    store_cases(engine, ref, cases, kcidb_sinks=())
    return fetch_digest(ref.uid, cases)


def test_cases_fetched_after_the_runs_give_their_transitions(engine: sa.Engine) -> None:
    builds, tests = runs(3)
    for doc in (*builds, *tests):
        store_doc(engine, doc)
    for test, result in zip(tests, ("pass", "fail", "pass"), strict=True):
        digest = fetched(engine, test, {CASE: result, "ltp-smoke/chdir01": "skip"})
    assert standing(engine) == {
        ("regression", CASE, uid(tests[0]), uid(tests[1])),
        ("fix", CASE, uid(tests[1]), uid(tests[2])),
    }
    with engine.connect() as conn:
        events = transitions_of(conn, digest)  # the last fetch's: the fix
    assert [(e, t["test"], t["after"]["uid"]) for e, t in events] == [("fix", CASE, uid(tests[2]))]


def test_cases_that_arrive_after_the_next_runs_split_its_transition(
    engine: sa.Engine, database_url: str
) -> None:
    """A run whose cases are not fetched yet is passed over, as a run without the suite is;
    when they arrive, the transition across it is superseded by the two it splits into."""
    builds, tests = runs(3)
    for doc in (*builds, *tests):
        store_doc(engine, doc)
    fetched(engine, tests[0], {CASE: "pass"})
    fetched(engine, tests[2], {CASE: "fail"})
    assert standing(engine) == {("regression", CASE, uid(tests[0]), uid(tests[2]))}
    digest = fetched(engine, tests[1], {CASE: "fail"})
    assert standing(engine) == {("regression", CASE, uid(tests[0]), uid(tests[1]))}
    with engine.connect() as conn:
        events = sorted((e, t["after"]["uid"]) for e, t in transitions_of(conn, digest))
    assert events == [("regression", uid(tests[1])), ("superseded", uid(tests[2]))]
    stored = snapshot(database_url)
    fetched(engine, tests[1], {CASE: "fail"})  # the same fetch again records nothing
    assert snapshot(database_url)["regressions"] == stored["regressions"]


def test_a_refetch_that_changes_a_case_supersedes_what_it_made(engine: sa.Engine) -> None:
    builds, tests = runs(2)
    for doc in (*builds, *tests):
        store_doc(engine, doc)
    fetched(engine, tests[0], {CASE: "pass"})
    fetched(engine, tests[1], {CASE: "fail"})
    assert standing(engine) == {("regression", CASE, uid(tests[0]), uid(tests[1]))}
    fetched(engine, tests[1], {CASE: "pass"})
    assert standing(engine) == set()


def ordered(actions: list[Action], seed: int) -> Iterator[Action]:
    """`actions` shuffled, each test's cases held back until the test is stored."""
    shuffled = list(actions)
    random.Random(seed).shuffle(shuffled)
    stored: set[str] = set()
    held: dict[str, list[Action]] = {}
    for action in shuffled:
        what, doc, _ = action
        if what == "cases" and uid(doc) not in stored:
            held.setdefault(uid(doc), []).append(action)
            continue
        yield action
        if what == "doc":
            stored.add(uid(doc))
            yield from held.pop(uid(doc), [])


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_runs_and_cases_in_any_order_give_the_same_transitions(
    engine: sa.Engine, seed: int
) -> None:
    results = ("pass", "fail", "fail", "pass")
    builds, tests = runs(len(results))
    # The third run's cases never arrive: its neighbours are compared across it.
    cases = [{CASE: r, "ltp-smoke/chdir01": "pass"} for r in results]
    actions: list[Action] = [("doc", doc, {}) for doc in (*builds, *tests)]
    actions += [
        ("cases", t, c) for i, (t, c) in enumerate(zip(tests, cases, strict=True)) if i != 2
    ]
    for what, doc, given in ordered(actions, seed):
        if what == "doc":
            store_doc(engine, doc)
        else:
            fetched(engine, doc, given)
    assert standing(engine) == {
        ("regression", CASE, uid(tests[0]), uid(tests[1])),
        ("fix", CASE, uid(tests[1]), uid(tests[3])),
    }
