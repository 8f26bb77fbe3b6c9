"""A store of many outcomes for bench.pages: plans of builds and the tests on them, spread over
projects and days, each row made from a sample callback by the worker's own code (the columns
it would store, its per-test results) and inserted in bulk; with the compared runs and the
regressions and fixes they hold (bench.page_runs)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench.page_runs import Runs
from shared.db.schema import outcomes, test_results
from shared.identity import body_digest
from shared.jobs import Delivery
from tests.support.builders import callback, encode
from tests.support.database import engine_for
from worker.outcome import update_from_job
from worker.store import upsert_values

PROJECTS = 20
BUILDS_PER_PLAN = 10
TESTS_PER_BUILD = 8
DAYS = 30  # the outcomes' updated_at are spread over this many days back from now
BATCH = 2000  # rows per INSERT
DEVICES = ("qemu-arm64", "qemu-x86_64", "qemu-armv7", "qemu-riscv64", "fvp-aemva", "x15")
ARCHES = (("arm64", "gcc-13"), ("x86_64", "gcc-13"), ("arm64", "clang-17"), ("riscv", "gcc-13"))
SUITES = ("boot", "ltp-syscalls", "kselftest-net", "kunit")
# One INSERT for every kind: the columns a kind leaves out are null.
EMPTY_ROW: dict[str, Any] = {column.name: None for column in outcomes.c}


@dataclass(frozen=True)
class Stored:
    count: int
    build: str  # a build with tests, in the busiest project
    test: str
    oebuild: str
    plan: str
    project: str


def uid(prefix: str, n: int) -> str:
    return f"{prefix}{n:0{27 - len(prefix)}d}"


def _test_status(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    result = "fail" if roll < 0.06 else "error" if roll < 0.08 else "pass"
    suites = {s: ("fail" if result == "fail" and s != "boot" else "pass") for s in SUITES}
    return {"result": result, "results": suites, "tests": list(SUITES)}


def documents(plans: int, seed: int = 17) -> Iterator[dict[str, Any]]:
    """Each plan's callbacks: the plan, its builds, the tests on each, and one oebuild."""
    rng = random.Random(seed)
    for p in range(plans):
        project = f"bench/project-{p % PROJECTS:02d}"
        plan = uid("plan", p)
        common = {"project": project, "plan": plan}
        yield callback("plan", plan, project=project)
        yield callback("oebuild", uid("oe", p), **common)
        for b in range(BUILDS_PER_PLAN):
            build = uid("build", p * BUILDS_PER_PLAN + b)
            arch, toolchain = ARCHES[b % len(ARCHES)]
            commit = {"git_sha": f"{p:040x}", "git_describe": f"v6.{p // 100}-{p % 100}"}
            yield callback(
                "build", build, **common, **commit, target_arch=arch, toolchain=toolchain
            )
            for t in range(TESTS_PER_BUILD):
                n = (p * BUILDS_PER_PLAN + b) * TESTS_PER_BUILD + t
                yield callback(
                    "test",
                    uid("test", n),
                    **common,
                    waiting_for=f"BUILD#{build}",
                    device=DEVICES[t % len(DEVICES)],
                    **_test_status(rng),
                )


def _row(doc: dict[str, Any], updated_at: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row a worker would store for `doc`, and its per-test results."""
    body = encode(doc)
    status = doc["status"]
    delivery = Delivery(doc["kind"], status["uid"], body_digest(body), body.decode(),
                        updated_at.isoformat(), "key:bench")  # fmt: skip
    change = update_from_job(doc["kind"], delivery.to_job())
    return upsert_values(change, updated_at), change.results or {}


def populate(url: str, count: int) -> Stored:
    """At least `count` outcomes in the store at `url`, the newest last."""
    per_plan = 2 + BUILDS_PER_PLAN * (1 + TESTS_PER_BUILD)
    plans = -(-count // per_plan)
    now = datetime.now(UTC)
    step = timedelta(days=DAYS) / (plans * per_plan)
    engine = engine_for(url)
    rows: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    runs = Runs()
    try:
        with engine.begin() as conn:
            for i, doc in enumerate(documents(plans)):
                at = now - step * (plans * per_plan - i)
                row, per_test = _row(doc, at)
                rows.append({**EMPTY_ROW, **row, "id": i + 1})
                results += [
                    {"outcome_id": i + 1, "name": k, "result": v} for k, v in per_test.items()
                ]
                runs.add(row, _compared(doc), at)
                if len(rows) >= BATCH:
                    _flush(conn, rows, results)
                    runs.flush(conn)
            _flush(conn, rows, results)
            runs.flush(conn)
    finally:
        engine.dispose()
    return _stored(plans, per_plan, runs.turned)


def _compared(doc: dict[str, Any]) -> dict[str, Any]:
    """The results a run of `doc` is compared by: a build's status, a test's suites."""
    status = doc["status"]
    if doc["kind"] == "build":
        return {"build": status.get("build_status")}
    return status.get("results") or {}


def _stored(plans: int, per_plan: int, turned: tuple[str, str] | None) -> Stored:
    """What bench.pages opens: the last plan, and the last build with a test whose result
    turned (a regression or a fix: its page marks it), and that test."""
    last = plans - 1
    build = (last * BUILDS_PER_PLAN) + BUILDS_PER_PLAN - 1
    build_uid, test_uid = turned or (uid("build", build), uid("test", build * TESTS_PER_BUILD))
    return Stored(
        count=plans * per_plan,
        build=build_uid,
        test=test_uid,
        oebuild=uid("oe", last),
        plan=uid("plan", last),
        project=f"bench/project-{last % PROJECTS:02d}",
    )


def _flush(conn: sa.Connection, rows: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(outcomes.insert(), rows)
    if results:
        conn.execute(test_results.insert(), results)
    rows.clear()
    results.clear()
