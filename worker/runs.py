"""What the comparison reads of a stored outcome: a run, its environment, commit and results.

A build's environment is its project, target_arch, toolchain and kconfig; a test's is its
project and device, and its build's target_arch, toolchain and kconfig (through build_uid),
and its commit is its build's. A test with no build link (no waiting_for, or an oebuild) is
compared within its project and device by time alone: each of its runs counts as a commit of
its own. A test that names a build not stored yet is not a run until the build arrives.

A test's results are its suites (the payload's `results`) and, once the enrich queue fetched
them, its cases, named `suite/test` (test_cases): both are compared alike, each by its name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Row,
    Select,
    bindparam,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from shared.db.schema import outcomes, test_cases
from shared.outcome_fields import is_result_name

# The results that are compared; error, canceled, unknown and skip are neither side of one.
COMPARED = frozenset({"pass", "fail"})
# A test with one of these results did not run its suites (an infrastructure error): skipped.
_NOT_RUN = frozenset({"error", "canceled"})
# The name a build's build_status is compared under.
BUILD_TEST = "build"

_o, _c = outcomes.c, test_cases.c
_build = aliased(outcomes)


@dataclass(frozen=True)
class Run:
    kind: str
    uid: str
    environment: dict[str, Any]
    git_sha: str | None
    git_describe: str | None
    run_time: datetime
    results: dict[str, str]

    @cached_property
    def env_key(self) -> str:
        """The environment's hash: read for the row, each lock and each comparison, made once."""
        canonical = json.dumps(self.environment, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "uid": self.uid,
            "env_key": self.env_key,
            "environment": self.environment,
            "git_sha": self.git_sha,
            "git_describe": self.git_describe,
            "run_time": self.run_time,
            "results": self.results,
        }


def _build_run(row: Row[Any]) -> Run | None:
    if not row.final or row.state_time is None or row.build_status not in COMPARED:
        return None
    results = {BUILD_TEST: row.build_status}
    return Run(
        "build", row.uid, _build_environment_of(dict(row._mapping)), row.git_sha, row.git_describe,
        row.state_time, results,
    )  # fmt: skip


def _test_results(payload: str) -> dict[str, str]:
    sent = json.loads(payload).get("status", {}).get("results")
    if not isinstance(sent, dict):
        return {}
    return {
        k: v for k, v in sent.items() if isinstance(v, str) and v in COMPARED and is_result_name(k)
    }


def _case_results(cases: str | dict[str, str] | None) -> dict[str, str]:
    """The compared cases of a test, as the query's aggregate gave them (SQLite: JSON text;
    PostgreSQL: decoded, or NULL for none)."""
    found: dict[str, str] = json.loads(cases) if isinstance(cases, str) else cases or {}
    return found


def _test_run(row: Row[Any], build: dict[str, Any] | None) -> Run | None:
    if not row.final or row.state_time is None or row.result in _NOT_RUN:
        return None
    results = _test_results(row.payload) | _case_results(row.cases)
    environment: dict[str, Any] = {"project": row.project, "device": row.device}
    if row.build_uid is None and row.waiting_for_test is None:
        environment["linked"] = False
        return Run("test", row.uid, environment, None, None, row.state_time, results)
    if build is None:
        return None  # compared when its build arrives
    environment |= _build_environment_of(build)
    return Run(
        "test", row.uid, environment, build["git_sha"], build["git_describe"], row.state_time,
        results,
    )  # fmt: skip


def _build_environment_of(build: Mapping[str, Any]) -> dict[str, Any]:
    return {name: build[name] for name in ("project", "target_arch", "toolchain", "kconfig")}


_BUILD_FIELDS = (
    _build.c.uid, _build.c.project, _build.c.target_arch, _build.c.toolchain, _build.c.kconfig,
    _build.c.git_sha, _build.c.git_describe,
)  # fmt: skip
_TEST_FIELDS = (
    _o.kind, _o.uid, _o.project, _o.final, _o.state_time, _o.result, _o.payload, _o.device,
    _o.build_uid, _o.waiting_for_test, _o.build_status, _o.target_arch, _o.toolchain,
    _o.kconfig, _o.git_sha, _o.git_describe,
)  # fmt: skip


@cache
def _with_build(dialect: str) -> Select[Any]:
    """Outcomes with their build's fields and their compared cases as one JSON object."""
    pairs = func.json_object_agg if dialect == "postgresql" else func.json_group_object
    cases = (
        select(pairs(_c.name, _c.result))
        .where(_c.outcome_id == _o.id, or_(*(_c.result == literal(r) for r in sorted(COMPARED))))
        .scalar_subquery()
        .label("cases")
    )
    build = (c.label(f"b_{c.name}") for c in _BUILD_FIELDS)
    return select(*_TEST_FIELDS, cases, *build).outerjoin(
        _build, (_build.c.kind == "build") & (_build.c.uid == _o.build_uid)
    )


def _run_of(row: Any) -> Run | None:
    if row.kind == "build":
        return _build_run(row)
    m = row._mapping
    build = {c.name: m[f"b_{c.name}"] for c in _BUILD_FIELDS}
    return _test_run(row, build if build["uid"] is not None else None)


_CHAINED = (
    select(_o.build_uid).where(_o.kind == "test", _o.uid == bindparam("r_uid")).scalar_subquery()
)


@cache
def _to_compare(dialect: str, kind: str) -> CompoundSelect[Any]:
    """The outcome itself (its key), and the tests its storing gave a build (an index of their
    own): two queries, not one OR, which SQLite answered by reading every test."""
    itself = _with_build(dialect).where(_o.kind == kind, _o.uid == bindparam("r_uid"))
    if kind == "build":
        given = _o.build_uid == bindparam("r_uid")
    else:
        # The tests that waited for this one (TEST#uid) got its build link as it was stored.
        given = (_o.build_uid == _CHAINED) & _o.waiting_for_test.is_not(None)
    return itself.union_all(_with_build(dialect).where(given, _o.kind == "test"))


def runs_to_compare(conn: Connection, kind: str, uid: str) -> dict[tuple[str, str], Run | None]:
    """The outcome a delivery stored, as a run (None: not one), and the tests that its storing
    gave a build: a build's tests, and a test's chain (the tests that waited for it)."""
    rows = conn.execute(_to_compare(conn.dialect.name, kind), {"r_uid": uid}).all()
    return {(row.kind, row.uid): _run_of(row) for row in rows}
